// The systemd journal as a log source, on the daemon's one io_context: the
// entries a JournalReader selects become syslog lines (journal_line) handed
// to a TailSink under one log index, and its position is the cursor of the
// last entry read, committed by the pipeline with what it made of it.
//
// Where it starts: after the resume cursor (that entry was handed on
// before; journal_start chooses it); when that entry is gone (rotated or
// vacuumed away) at the oldest entry after it, said once in the log; with
// no cursor, at the oldest entry, as the Tailer reads a file it has no
// position for from its first byte (the backlog is judged in log time
// downstream).
//
// Every entry is handed on but Exim's reject copy of a line it also sent as
// the main copy (syslog_duplication, reject_copy_filter), whose cursor is
// the position all the same.
#pragma once

#include "core/log_position.hpp"
#include "journal/journal_entry.hpp"
#include "journal/journal_reader.hpp"
#include "journal/reject_copy_filter.hpp"
#include "loop/lifetime.hpp"
#include "tail/log_source.hpp"
#include "tail/tail_sink.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace exim_ban {

class JournalSource final : public LogSource {
  public:
    // `log`: the index its lines carry to the sink; `name`: its position's
    // path (journal_source_name); `resume`: the committed position of that
    // name, or one with an empty cursor. Nothing is read before start().
    JournalSource(boost::asio::io_context& io, std::unique_ptr<JournalReader> reader,
                  std::size_t log, std::string name, const LogPosition& resume, TailSink& sink);
    ~JournalSource() override;
    JournalSource(const JournalSource&) = delete;
    JournalSource& operator=(const JournalSource&) = delete;

    // Seeks to where it starts (see above), hands the backlog on, then
    // follows the journal. Reading yields to the io_context every few
    // thousand entries, so timers and signals are served during a long
    // backlog.
    void start();
    // Nothing is handed on afterwards.
    void stop();

    // One: the name and the cursor of the last entry read, handed on or a
    // reject copy (the resume cursor until one is read).
    std::vector<LogPosition> positions() const override;
    void pause() override;
    void resume() override;

  private:
    void read_on();
    void post_read();
    void wait_for_entries();
    void woken();

    boost::asio::io_context& io_;
    std::unique_ptr<JournalReader> reader_;
    std::size_t log_;
    LogPosition position_;
    TailSink& sink_;
    boost::asio::posix::stream_descriptor descriptor_;
    boost::asio::steady_timer deadline_;
    JournalEntry entry_;
    std::string line_;
    RejectCopyFilter reject_copies_;
    bool started_ = false;
    bool stopped_ = false;
    bool paused_ = false;
    bool read_posted_ = false;
    bool waiting_ = false;
    // Seeked to the committed cursor: the next entry is its own (skipped) or,
    // when that one is gone, the oldest after it.
    bool cursor_unchecked_ = false;
    bool caught_up_due_ = true; // lines were handed on since the sink last heard on_caught_up()
    Lifetime lifetime_;         // last: ends first
};

// The position path of the journal source that reads `match_text`:
// "journal:" and the match, so that each match keeps its own cursor.
std::string journal_source_name(const std::string& match_text);

} // namespace exim_ban
