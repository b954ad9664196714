// Follows Exim's log files as they are written, on the daemon's one
// io_context: inotify says something changed, the tailer reads what was
// appended in large chunks, cuts it into lines and hands each complete line
// on, with the file's position moving past it. It survives every way a log
// is rotated (rename + create, copytruncate, truncate in place, delete and
// re-create), a file or a directory that appears later, and a file replaced
// while the daemon was stopped; after a rename the old file is read to its
// end before the new one, and then on, beside the new one, until it has
// been quiet for the rotation grace period: Exim processes that opened it
// before the rotation write their next lines to it. It never reads a byte
// twice or skips one, as long as the sink commits positions() together with
// what it made of the lines. An unterminated last line of a file that is
// left for another (rotated or deleted) is handed on as a line: Exim writes
// whole lines, so it is a crash's remnant, and dropping it could drop a
// hit. One of a truncated file is read again from copytruncate's copy when
// there is one, else dropped with the rest of what was cut away.
#pragma once

#include "core/log_position.hpp"
#include "tail/log_source.hpp"
#include "tail/tail_sink.hpp"
#include "tail/tail_stats.hpp"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace exim_ban {

// Waits between retries of a log that cannot be opened or read: 1 s,
// doubling, at most 30 s, so that a log made readable again is followed soon
// and a broken one costs little.
inline constexpr std::chrono::seconds tail_first_retry{1};
inline constexpr std::chrono::seconds tail_longest_retry{30};

class Tailer;

// A tailer, or why the logs cannot be followed.
struct TailerOpening {
    std::unique_ptr<Tailer> tailer; // null when the logs cannot be followed
    std::string error;              // then why: the kernel has no inotify
};

class Tailer final : public LogSource {
  public:
    // `paths`: the files to follow (no globs); `resume`: positions a
    // previous run committed (any order; paths not listed start at 0, as a
    // new file's backlog is judged in log time downstream);
    // `rotation_grace`: how long a renamed file must stay quiet before it is
    // let go (0: once read to its end). Fails only when the kernel has no
    // inotify; past an inotify limit (no instance, no
    // watch) the logs are polled until it allows them to be watched.
    // Nothing is read before start().
    static TailerOpening open(boost::asio::io_context& io, std::vector<std::string> paths,
                              const std::vector<LogPosition>& resume, TailSink& sink,
                              std::chrono::milliseconds rotation_grace);
    ~Tailer() override;
    Tailer(const Tailer&) = delete;
    Tailer& operator=(const Tailer&) = delete;

    // Reads every file's backlog (from its resume position; a file rotated
    // while stopped is found beside it by identity and finished first, and
    // a committed rotated file's rest is read and followed for a new grace
    // period), then follows them. A missing file or directory is waited
    // for; an unreadable one is logged and retried with backoff. Reading
    // yields to the io_context between chunks, so timers and signals are
    // served during a long backlog.
    void start();

    // Stops handing on lines (from inside on_line too: the line just handed
    // on is the last) until resume(); what was read but not handed on is
    // read again later. For back-pressure when the store cannot commit.
    void pause() override;
    void resume() override;
    // Stops watching and reading; nothing is handed on afterwards.
    void stop();

    // One per path, in the order given: the file being read now and the
    // offset just past the last line handed on (a partial last line is not
    // included: it is read again after a restart; of a cut line, the offset
    // moves to the cut, then over its rest as that is skipped, so a restart
    // in the middle hands on the rest as a line of its own). While a
    // resumed file is waited for: its position as given. With no file open
    // (none yet, or the file was deleted and read to its end): path only,
    // device, inode and offset 0 and head_hash empty, which as a resume
    // position starts the path from 0 like a path not listed. `rotated`:
    // the renamed file followed for its late lines and the offset past the
    // last of them handed on; nullopt when there is none.
    std::vector<LogPosition> positions() const override;
    TailStats stats() const;

  private:
    class Impl;
    explicit Tailer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace exim_ban
