#include "tail/tailer.hpp"

#include "core/backoff.hpp"
#include "core/line_splitter.hpp"
#include "loop/lifetime.hpp"
#include "tail/follow_decision.hpp"
#include "tail/followed_file.hpp"
#include "tail/inotify_watches.hpp"
#include "tail/resume_plan.hpp"
#include "tail/rotation_grace.hpp"
#include "tail/watch_limit.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <filesystem>
#include <optional>
#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <system_error>
#include <utility>

namespace exim_ban {
namespace {

// Large enough that a backlog is read at the speed of the disk, small
// enough that timers and signals wait for one chunk at most.
constexpr std::size_t chunk_bytes = 1 << 20;

// What happens to the entries of a log's directory (created, renamed in or
// out, deleted, made readable, closed after a copy) and to the directory
// itself (deleted or renamed: watch again from the nearest ancestor).
constexpr std::uint32_t directory_mask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                         IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF;
// Appends and truncations of an open file. A watch on the file rather than
// IN_MODIFY on the directory: it still reports appends after the file was
// renamed away (Exim writes to mainlog.01 until its processes notice), and
// the writes to the other logs of the directory do not wake the tailer.
constexpr std::uint32_t file_mask = IN_MODIFY | IN_ATTRIB;

// A file that keeps changing under the tailer (truncated, replaced) between
// two looks cannot hold the io_context: after this many steps of one log
// the rest waits for the next turn.
constexpr int steps_per_turn = 8;

constexpr std::chrono::seconds inotify_retry_delay{1};

// A file opened nearly empty gets the full head hash once it has one, at
// its end: a longer head tells files apart better.
void lengthen_head(FollowedFile& file, std::uint64_t size) {
    if (file.head().bytes < head_hash_bytes && size > file.head().bytes)
        file.retake_head(size);
}

std::string limit_text(int error) {
    return error == ENOSPC ? "the inotify watch limit is reached"
                           : "no inotify instance (the limit of instances, or of open files, is "
                             "reached)";
}

} // namespace

class Tailer::Impl {
  public:
    Impl(boost::asio::io_context& io, std::vector<std::string> paths,
         const std::vector<LogPosition>& resume, TailSink& sink,
         std::chrono::milliseconds rotation_grace);
    ~Impl();
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    void start();
    void pause();
    void resume();
    void stop();
    std::vector<LogPosition> positions() const;
    TailStats stats() const { return stats_; }

  private:
    struct Log {
        Log(boost::asio::io_context& io, std::size_t position_in_paths, std::string log_path);

        std::size_t index;
        std::string path;
        std::filesystem::path directory;
        std::string name;
        // A previous run's position, until a file is opened: what
        // positions() reports while the path is waited for.
        std::optional<LogPosition> committed;

        std::optional<FollowedFile> file;
        // copytruncate's copy, read for what it holds beyond the position
        // (at start-up or after a truncation): moving on from it to the path
        // is no rotation.
        bool file_is_copy = false;
        // The file was deleted, read to its end and closed: the next one at
        // the path is a rotation.
        bool deleted_file_let_go = false;
        int file_watch = -1;
        DirectoryWatch directory_watch;
        LineSplitter splitter; // consumed(): the offset in `file` handed on
        std::uint64_t read_position = 0;

        // Where pause() found the splitter: read again from there on resume.
        struct Held {
            std::uint64_t offset = 0;
            bool skipping_cut_line = false;
        };
        std::optional<Held> held;

        // The file the path named before its last rotation, followed for
        // the lines written to it late until it has been quiet for the
        // grace period (rotation_grace.hpp). One at most: a second rotation
        // within the grace period lets the first file go.
        struct Rotated {
            FollowedFile file;
            int watch = -1;
            LineSplitter splitter;
            std::uint64_t read_position = 0;
            std::optional<Held> held;
            GraceClock::time_point last_growth;
        };
        std::optional<Rotated> rotated;
        boost::asio::steady_timer grace_timer;

        bool dirty = false; // an event or a retry asks for a look
        bool more = false;  // a chunk was read and more may follow

        std::string failure; // as last logged; empty when all is well
        int watch_error = 0; // of the file's watch, as last logged
        bool missing_reported = false;
        Backoff backoff{tail_first_retry, tail_longest_retry};
        boost::asio::steady_timer retry_timer;
    };

    void read_events();
    void on_events(const boost::system::error_code& error, const std::vector<InotifyEvent>& events);
    void dispatch(const InotifyEvent& event);
    void arm_directory(Log& log);
    WatchAdding watch_descriptor(const FollowedFile& file);
    void watch_file(Log& log);
    void note_watch_limit(const Log& log, int error) const;
    void drop_file_watch(Log& log);
    bool watch_in_use(int watch) const;

    void begin(Log& log);
    void resume_rotated(Log& log, const LogPosition& committed);
    bool step_rotated(Log& log);
    bool read_rotated(Log& log);
    void let_go_rotated(Log& log, const std::string& why);
    bool keep_rotated(Log& log);
    void follow_rotated(Log& log, FollowedFile file, std::uint64_t offset);
    void wait_for_grace(Log& log);
    void schedule();
    void pump();
    bool step(Log& log);
    bool open_path(Log& log);
    bool switch_to_path(Log& log, bool renamed);
    void let_go(Log& log);
    void read_again(Log& log);
    void follow(Log& log, FollowedFile file, std::uint64_t offset, bool is_copy);
    void rewind(Log& log);
    void rewind_rotated(Log& log);
    void hand_on(Log& log, std::string_view line, bool cut);
    void hand_on_late(Log& log, std::string_view line, bool cut);
    void deliver(Log& log, std::string_view line, bool cut);
    LogPosition position_of(const Log& log) const;

    void fail(Log& log, const std::string& what, int error);
    void recovered(Log& log);
    void note_missing(Log& log);
    void retry_later(Log& log);
    // Looks at the log again when `timer` (one of its own) expires.
    void look_again_when_due(Log& log, boost::asio::steady_timer& timer);
    // A watch of the log is missing because an inotify limit is reached.
    bool polled(const Log& log) const;

    boost::asio::io_context& io_;
    TailSink& sink_;
    const std::chrono::milliseconds rotation_grace_;
    InotifyWatches inotify_;
    boost::asio::steady_timer inotify_retry_;
    std::vector<std::unique_ptr<Log>> logs_;
    std::unique_ptr<char[]> chunk_;
    TailStats stats_;
    bool started_ = false;
    bool stopped_ = false;
    bool paused_ = false;
    bool pump_posted_ = false;
    // Lines were handed on (or the start-up backlog is being read) since
    // the sink last heard on_caught_up().
    bool caught_up_due_ = false;
    // Last: handlers still queued when this goes find it gone.
    Lifetime lifetime_;
};

Tailer::Impl::Log::Log(boost::asio::io_context& io, std::size_t position_in_paths,
                       std::string log_path)
    : index(position_in_paths)
    , path(std::move(log_path))
    , directory(std::filesystem::path(path).parent_path())
    , name(std::filesystem::path(path).filename().string())
    , grace_timer(io)
    , retry_timer(io) {}

Tailer::Impl::Impl(boost::asio::io_context& io, std::vector<std::string> paths,
                   const std::vector<LogPosition>& resume, TailSink& sink,
                   std::chrono::milliseconds rotation_grace)
    : io_(io)
    , sink_(sink)
    , rotation_grace_(rotation_grace)
    , inotify_(io)
    , inotify_retry_(io)
    , chunk_(std::make_unique<char[]>(chunk_bytes)) {
    for (auto& path : paths) {
        auto log = std::make_unique<Log>(io, logs_.size(), std::move(path));
        for (const auto& position : resume)
            if (position.path == log->path) {
                log->committed = position;
                break;
            }
        logs_.push_back(std::move(log));
    }
}

Tailer::Impl::~Impl() = default;

void Tailer::Impl::start() {
    if (started_ || stopped_)
        return;
    started_ = true;
    caught_up_due_ = true;
    read_events();
    for (auto& log : logs_) {
        // Watched before the first look, so that nothing that happens
        // after the look goes unnoticed.
        arm_directory(*log);
        begin(*log);
        log->dirty = true;
    }
    schedule();
}

void Tailer::Impl::pause() {
    if (paused_ || stopped_)
        return;
    paused_ = true;
    for (auto& log : logs_)
        // Paused, resumed and paused again before the pump came round:
        // the first mark still stands, later lines were not handed on.
        if (log->file && !log->held)
            log->held = Log::Held{log->splitter.consumed(), log->splitter.skipping_cut_line()};
    for (auto& log : logs_)
        if (log->rotated && !log->rotated->held)
            log->rotated->held = Log::Held{log->rotated->splitter.consumed(),
                                           log->rotated->splitter.skipping_cut_line()};
}

void Tailer::Impl::resume() {
    if (!paused_ || stopped_)
        return;
    paused_ = false;
    schedule();
}

void Tailer::Impl::stop() {
    if (stopped_)
        return;
    stopped_ = true;
    inotify_.close();
    inotify_retry_.cancel();
    for (auto& log : logs_) {
        log->retry_timer.cancel();
        log->grace_timer.cancel();
    }
}

std::vector<LogPosition> Tailer::Impl::positions() const {
    std::vector<LogPosition> positions;
    positions.reserve(logs_.size());
    for (const auto& log : logs_)
        positions.push_back(position_of(*log));
    return positions;
}

LogPosition Tailer::Impl::position_of(const Log& log) const {
    LogPosition position;
    if (log.file) {
        const std::uint64_t offset = log.held ? log.held->offset : log.splitter.consumed();
        position = {
            log.path, log.file->id().device, log.file->id().inode, to_string(log.file->head()),
            offset,   std::nullopt};
    } else if (log.committed) {
        position = *log.committed;
        position.path = log.path;
    } else {
        position.path = log.path;
    }
    // A committed rotated file that is not followed now was not found at
    // start-up, or was let go since: nothing more is read from it.
    position.rotated.reset();
    if (log.rotated) {
        const Log::Rotated& rotated = *log.rotated;
        position.rotated = RotatedFilePosition{
            rotated.file.id().device, rotated.file.id().inode, to_string(rotated.file.head()),
            rotated.held ? rotated.held->offset : rotated.splitter.consumed()};
    }
    return position;
}

// --- watching ---

void Tailer::Impl::read_events() {
    inotify_.async_read_events(lifetime_.guarded(
        [this](const boost::system::error_code& error, const std::vector<InotifyEvent>& events) {
            on_events(error, events);
        }));
}

void Tailer::Impl::on_events(const boost::system::error_code& error,
                             const std::vector<InotifyEvent>& events) {
    if (stopped_ || error == boost::asio::error::operation_aborted)
        return;
    if (error) {
        // Never seen in practice; should it happen, every log is looked at
        // again after a pause rather than the loop spinning on the error.
        spdlog::error("tail: cannot read inotify events: {}; looking at every log again in {} s",
                      error.message(), inotify_retry_delay.count());
        inotify_retry_.expires_after(inotify_retry_delay);
        inotify_retry_.async_wait(
            lifetime_.guarded([this](const boost::system::error_code& waited) {
                if (waited || stopped_)
                    return;
                for (auto& log : logs_)
                    log->dirty = true;
                schedule();
                read_events();
            }));
        return;
    }
    for (const auto& event : events)
        dispatch(event);
    schedule();
    read_events();
}

void Tailer::Impl::dispatch(const InotifyEvent& event) {
    if ((event.mask & IN_Q_OVERFLOW) != 0) {
        // Events were lost: any log may have changed in any way, its
        // directory too (a directory re-created gets a new watch).
        for (auto& log : logs_) {
            arm_directory(*log);
            log->dirty = true;
        }
        return;
    }
    const bool directory_gone = (event.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) != 0;
    const bool directory_made =
        (event.mask & IN_ISDIR) != 0 && (event.mask & (IN_CREATE | IN_MOVED_TO)) != 0;
    for (auto& log : logs_) {
        if (event.watch == log->file_watch) {
            log->dirty = true;
            // The kernel dropped the watch (its file system went away): a
            // new one is asked for at the next look.
            if ((event.mask & IN_IGNORED) != 0)
                log->file_watch = -1;
        }
        if (log->rotated && event.watch == log->rotated->watch) {
            log->dirty = true;
            if ((event.mask & IN_IGNORED) != 0)
                log->rotated->watch = -1;
        }
        if (event.watch != log->directory_watch.watch)
            continue;
        if (log->directory_watch.on_directory) {
            if (directory_gone) {
                arm_directory(*log);
                log->dirty = true;
            } else if (event.name == log->name) {
                log->dirty = true;
            }
        } else if (directory_gone || directory_made) {
            // A directory on the way to the log's may have appeared; one
            // that did not is watched from the same ancestor again.
            arm_directory(*log);
            log->dirty = true;
        }
    }
}

void Tailer::Impl::arm_directory(Log& log) {
    const DirectoryWatch old = log.directory_watch;
    log.directory_watch = inotify_.add_directory(log.directory, directory_mask);
    const DirectoryWatch& now = log.directory_watch;
    if (old.watch >= 0 && old.watch != now.watch && !watch_in_use(old.watch))
        inotify_.remove(old.watch);
    if (now.watch >= 0) {
        if (old.error != 0)
            spdlog::info("tail: {}: its directory is watched again", log.path);
        return;
    }
    // Apart from the open and read failures: an open file is still read
    // (on retries) while its directory cannot be watched.
    if (now.error != old.error) {
        if (inotify_limit_sysctl(now.error)) {
            if (!log.file || log.watch_error != now.error)
                note_watch_limit(log, now.error);
        } else {
            spdlog::warn("tail: {}: cannot watch {} or a directory above it ({}); retrying",
                         log.path, log.directory.string(), describe_file_error(now.error));
        }
    }
    ++stats_.read_errors;
    retry_later(log);
}

WatchAdding Tailer::Impl::watch_descriptor(const FollowedFile& file) {
    // Through the descriptor, not the path: the path may name another file
    // by now.
    return inotify_.add("/proc/self/fd/" + std::to_string(file.descriptor()), file_mask);
}

void Tailer::Impl::watch_file(Log& log) {
    const WatchAdding added = watch_descriptor(*log.file);
    if (added.watch >= 0) {
        log.file_watch = added.watch;
        if (log.watch_error != 0)
            spdlog::info("tail: {}: watched with inotify again{}", log.path,
                         inotify_limit_sysctl(log.watch_error) ? "; polling stopped" : "");
        log.watch_error = 0;
        return;
    }
    // Without a watch, appends are seen on polls or retries only: late,
    // not lost.
    if (added.error != log.watch_error) {
        if (inotify_limit_sysctl(added.error)) {
            if (log.directory_watch.error != added.error)
                note_watch_limit(log, added.error);
        } else {
            spdlog::warn("tail: {}: cannot watch the open file ({}); looking at it on retries "
                         "only",
                         log.path, describe_file_error(added.error));
        }
    }
    log.watch_error = added.error;
    ++stats_.read_errors;
    retry_later(log);
}

void Tailer::Impl::note_watch_limit(const Log& log, int error) const {
    // Once per log, not once per watch it lacks: the directory's and the
    // file's fail for the same reason.
    spdlog::warn("tail: {}: cannot be watched: {}; polling it every {} ms until it can (raise {})",
                 log.path, limit_text(error), watch_limit_poll_interval.count(),
                 *inotify_limit_sysctl(error));
}

void Tailer::Impl::drop_file_watch(Log& log) {
    const int watch = std::exchange(log.file_watch, -1);
    if (watch >= 0 && !watch_in_use(watch))
        inotify_.remove(watch);
}

bool Tailer::Impl::watch_in_use(int watch) const {
    // Watches are per inode: two logs in one directory share its watch.
    for (const auto& log : logs_)
        if (log->file_watch == watch || log->directory_watch.watch == watch ||
            (log->rotated && log->rotated->watch == watch))
            return true;
    return false;
}

// --- reading ---

void Tailer::Impl::begin(Log& log) {
    if (log.committed)
        resume_rotated(log, *log.committed);
    // A position that names no file (see positions()): the path from 0.
    if (log.committed && log.committed->head_hash.empty())
        log.committed.reset();
    if (!log.committed)
        return;
    const ResumePlan plan = find_resume_plan(*log.committed);
    const auto open_expected = [&](const std::string& path, const FileId& id, bool is_copy) {
        FileOpening opening = FollowedFile::open(path);
        // The survey and this open race with a rotation; a file that
        // changed in between is not trusted with the position.
        if (!opening.file || opening.file->id() != id)
            return false;
        follow(log, std::move(*opening.file), plan.offset, is_copy);
        return true;
    };
    switch (plan.kind) {
    case ResumePlan::Kind::continue_at_path: {
        const FileId id{log.committed->device, log.committed->inode};
        if (open_expected(log.path, id, false))
            return;
        break;
    }
    case ResumePlan::Kind::finish_rotated:
        if (plan.rotated_is_copy)
            ++stats_.truncations;
        if (open_expected(plan.rotated.path, plan.rotated.id, plan.rotated_is_copy)) {
            spdlog::info("tail: {} was {} while stopped; reading {} from offset {} first", log.path,
                         plan.rotated_is_copy ? "copied and truncated" : "rotated",
                         plan.rotated.path, plan.offset);
            return;
        }
        break;
    case ResumePlan::Kind::path_truncated:
        ++stats_.truncations;
        spdlog::info("tail: {} was truncated while stopped; reading it from its start", log.path);
        return;
    case ResumePlan::Kind::rest_lost:
        break;
    }
    spdlog::warn("tail: {}: the file read up to offset {} is gone; reading {} from its start "
                 "(what that file held after the offset is lost)",
                 log.path, log.committed->offset, log.path);
}

void Tailer::Impl::schedule() {
    if (pump_posted_ || stopped_ || !started_)
        return;
    pump_posted_ = true;
    boost::asio::post(io_, lifetime_.guarded([this] { pump(); }));
}

void Tailer::Impl::pump() {
    pump_posted_ = false;
    if (stopped_ || paused_)
        return;
    bool more = false;
    for (auto& log : logs_) {
        if (log->held)
            rewind(*log);
        if (log->rotated && log->rotated->held)
            rewind_rotated(*log);
        if (!log->dirty && !log->more)
            continue;
        log->dirty = false;
        log->more = step(*log);
        if (stopped_ || paused_)
            return;
        more = more || log->more;
    }
    if (more) {
        // Posted rather than looped: whatever else waits on the io_context
        // runs between two chunks.
        schedule();
    } else if (caught_up_due_) {
        caught_up_due_ = false;
        sink_.on_caught_up();
    }
}

bool Tailer::Impl::step(Log& log) {
    if (!log.directory_watch.on_directory)
        arm_directory(log);
    // A watch that could not be set before is asked for again; follow()
    // watches each file it opens.
    if (log.file && log.file_watch < 0)
        watch_file(log);
    // The rotated file's late lines first: they were written before
    // whatever the look finds appended to the new file since.
    if (log.rotated && step_rotated(log))
        return true;
    if (paused_ || stopped_)
        return false;
    std::size_t read_this_turn = 0;
    for (int steps = 0; steps < steps_per_turn; ++steps) {
        if (!log.file && !open_path(log))
            return false;
        const FileStatus status = log.file->status();
        if (status.error != 0) {
            fail(log, "cannot read", status.error);
            return false;
        }
        const PathLookup at_path = look_up_path(log.path);
        const OpenFileFacts facts{log.file->id(), status.size, log.read_position,
                                  log.file->head_unchanged(), status.links == 0};
        switch (next_follow_step(facts, at_path.id)) {
        case FollowStep::read_on: {
            const FileRead read = log.file->read_at(log.read_position, chunk_.get(), chunk_bytes);
            if (read.error != 0) {
                fail(log, "cannot read", read.error);
                return false;
            }
            // 0 although fstat said more: truncated in between; look again.
            if (read.bytes == 0)
                break;
            recovered(log);
            log.read_position += read.bytes;
            stats_.bytes += read.bytes;
            log.splitter.feed(std::string_view(chunk_.get(), read.bytes),
                              [&](std::string_view line, bool cut) { hand_on(log, line, cut); });
            if (log.held || stopped_)
                return false;
            read_this_turn += read.bytes;
            if (read_this_turn >= chunk_bytes)
                return true;
            break;
        }
        case FollowStep::read_again:
            read_again(log);
            break;
        case FollowStep::switch_to_path:
            if (!switch_to_path(log, status.links > 0))
                return false;
            break;
        case FollowStep::let_go:
            let_go(log);
            return false;
        case FollowStep::wait:
            recovered(log);
            lengthen_head(*log.file, status.size);
            return false;
        }
    }
    return true;
}

bool Tailer::Impl::open_path(Log& log) {
    FileOpening opening = FollowedFile::open(log.path);
    if (!opening.file) {
        if (opening.error == ENOENT || opening.error == ENOTDIR)
            note_missing(log);
        else
            fail(log, "cannot open", opening.error);
        return false;
    }
    recovered(log);
    if (std::exchange(log.deleted_file_let_go, false)) {
        ++stats_.rotations;
        spdlog::info("tail: {} was deleted and created again; reading it from its start", log.path);
    }
    follow(log, std::move(*opening.file), 0, false);
    return true;
}

bool Tailer::Impl::switch_to_path(Log& log, bool renamed) {
    FileOpening opening = FollowedFile::open(log.path);
    if (!opening.file) {
        // Gone again since the look: the event of its return will come.
        // The old file stays open until the new one can be read.
        if (opening.error != ENOENT && opening.error != ENOTDIR)
            fail(log, "cannot open", opening.error);
        return false;
    }
    if (opening.file->id() == log.file->id())
        return true;
    // A copy is written by nobody, and Exim stops writing to a deleted log
    // at its next line.
    if (renamed && !log.file_is_copy && rotation_grace_.count() > 0) {
        if (!keep_rotated(log))
            return false;
        ++stats_.rotations;
        spdlog::info("tail: {} was rotated; reading the new file from its start, and the old "
                     "one until it has been quiet for {} ms",
                     log.path, rotation_grace_.count());
        follow(log, std::move(*opening.file), 0, false);
        return true;
    }
    // The old file will not get the rest of an unterminated last line
    // (Exim writes whole lines; this is a crash's or a full disk's
    // remnant): hand it on as the line it is rather than drop it.
    log.splitter.finish([&](std::string_view line, bool cut) { hand_on(log, line, cut); });
    if (log.held || stopped_)
        return false;
    if (!log.file_is_copy) {
        ++stats_.rotations;
        spdlog::info("tail: {} was rotated; reading the new file from its start", log.path);
    }
    follow(log, std::move(*opening.file), 0, false);
    return true;
}

void Tailer::Impl::let_go(Log& log) {
    // As at a switch: the unterminated last line is handed on.
    log.splitter.finish([&](std::string_view line, bool cut) { hand_on(log, line, cut); });
    if (log.held || stopped_)
        return;
    drop_file_watch(log);
    log.file.reset();
    log.deleted_file_let_go = true;
    log.file_is_copy = false;
}

// --- the rotated file's grace period ---

void Tailer::Impl::resume_rotated(Log& log, const LogPosition& committed) {
    const std::optional<LogPosition> position = rotated_file_position(committed);
    if (!position)
        return;
    // Read even with no grace period configured now: its rest was not
    // handed on yet.
    const ResumePlan plan = find_resume_plan(*position);
    if (plan.kind == ResumePlan::Kind::finish_rotated) {
        FileOpening opening = FollowedFile::open(plan.rotated.path);
        if (opening.file && opening.file->id() == plan.rotated.id) {
            spdlog::info("tail: {}: reading its rotated file {} from offset {} for late lines",
                         log.path, plan.rotated.path, plan.offset);
            follow_rotated(log, std::move(*opening.file), plan.offset);
            return;
        }
    }
    // Also after a grace period that ended with no commit since (the row
    // is cleared with the next batch): then nothing was lost.
    spdlog::warn("tail: {}: the rotated file read up to offset {} is gone (lines written to it "
                 "after that offset, if any, are lost)",
                 log.path, position->offset);
}

void Tailer::Impl::follow_rotated(Log& log, FollowedFile file, std::uint64_t offset) {
    const WatchAdding added = watch_descriptor(file);
    if (added.watch < 0)
        spdlog::warn("tail: {}: cannot watch the rotated file ({}); looking at it every {} ms",
                     log.path, describe_file_error(added.error), watch_limit_poll_interval.count());
    log.rotated.emplace(Log::Rotated{std::move(file), added.watch, LineSplitter{}, offset,
                                     std::nullopt, GraceClock::now()});
    log.rotated->splitter.restart(offset);
    wait_for_grace(log);
}

bool Tailer::Impl::keep_rotated(Log& log) {
    if (log.rotated) {
        // Rotated again within the grace period: the older file is read to
        // its end and let go, so that one file per path is held at most.
        // Its writers are two rotations old by now.
        while (log.rotated && read_rotated(log)) {
        }
        if (paused_ || stopped_)
            return false;
        let_go_rotated(log, "the path was rotated again within the grace period");
        if (paused_ || stopped_)
            return false;
    }
    // Read to its end here.
    lengthen_head(*log.file, log.read_position);
    // Its unterminated last line, if any, stays held back: a late write
    // may still end it.
    log.rotated.emplace(Log::Rotated{std::move(*log.file), std::exchange(log.file_watch, -1),
                                     std::exchange(log.splitter, LineSplitter{}), log.read_position,
                                     std::nullopt, GraceClock::now()});
    log.file.reset();
    wait_for_grace(log);
    return true;
}

bool Tailer::Impl::step_rotated(Log& log) {
    // Looked at again after each read, so that a file read to its end
    // waits on its timer from its last growth.
    for (int steps = 0; steps < steps_per_turn; ++steps) {
        Log::Rotated& rotated = *log.rotated;
        const FileStatus status = rotated.file.status();
        if (status.error != 0) {
            ++stats_.read_errors;
            let_go_rotated(log, "cannot read it: " + describe_file_error(status.error));
            return false;
        }
        const RotatedFileFacts facts{status.size, rotated.read_position,
                                     rotated.file.head_unchanged(), status.links == 0,
                                     rotated.last_growth};
        switch (next_rotated_file_step(facts, GraceClock::now(), rotation_grace_)) {
        case RotatedFileStep::read_on:
            if (read_rotated(log))
                return true;
            if (!log.rotated || paused_ || stopped_)
                return false;
            break;
        case RotatedFileStep::wait:
            lengthen_head(rotated.file, status.size);
            wait_for_grace(log);
            return false;
        case RotatedFileStep::let_go:
            if (facts.size < facts.read_position || !facts.head_unchanged)
                let_go_rotated(log, "it was truncated or rewritten");
            else if (facts.deleted)
                let_go_rotated(log, "it was deleted");
            else
                let_go_rotated(log, "it has been quiet for the grace period");
            return false;
        }
    }
    return true;
}

void Tailer::Impl::wait_for_grace(Log& log) {
    const Log::Rotated& rotated = *log.rotated;
    GraceClock::time_point look = grace_ends(rotated.last_growth, rotation_grace_);
    // Without a watch nothing says that it grew: it is polled meanwhile.
    if (rotated.watch < 0)
        look = std::min(look, GraceClock::now() + watch_limit_poll_interval);
    log.grace_timer.expires_at(look);
    look_again_when_due(log, log.grace_timer);
}

bool Tailer::Impl::read_rotated(Log& log) {
    Log::Rotated& rotated = *log.rotated;
    const FileRead read = rotated.file.read_at(rotated.read_position, chunk_.get(), chunk_bytes);
    if (read.error != 0) {
        ++stats_.read_errors;
        let_go_rotated(log, "cannot read it: " + describe_file_error(read.error));
        return false;
    }
    if (read.bytes == 0)
        return false;
    rotated.read_position += read.bytes;
    rotated.last_growth = GraceClock::now();
    stats_.bytes += read.bytes;
    rotated.splitter.feed(std::string_view(chunk_.get(), read.bytes),
                          [&](std::string_view line, bool cut) { hand_on_late(log, line, cut); });
    if (paused_ || stopped_)
        return false;
    return read.bytes == chunk_bytes;
}

void Tailer::Impl::let_go_rotated(Log& log, const std::string& why) {
    if (!log.rotated)
        return;
    // As at a switch: the unterminated last line is handed on.
    log.rotated->splitter.finish(
        [&](std::string_view line, bool cut) { hand_on_late(log, line, cut); });
    if (paused_ || stopped_)
        return;
    const int watch = std::exchange(log.rotated->watch, -1);
    log.rotated.reset();
    if (watch >= 0 && !watch_in_use(watch))
        inotify_.remove(watch);
    log.grace_timer.cancel();
    spdlog::info("tail: {}: stopped reading its rotated file: {}", log.path, why);
}

void Tailer::Impl::read_again(Log& log) {
    const ResumePlan plan = find_resume_plan(position_of(log));
    if (plan.kind == ResumePlan::Kind::continue_at_path) {
        // Only an unterminated last line was cut away: what was handed on
        // is intact.
        log.splitter.restart(plan.offset);
        log.read_position = plan.offset;
        return;
    }
    ++stats_.truncations;
    if (plan.kind == ResumePlan::Kind::finish_rotated) {
        // copytruncate: what was written after the last read and before
        // the truncation is in the copy.
        FileOpening copy = FollowedFile::open(plan.rotated.path);
        if (copy.file && copy.file->id() == plan.rotated.id) {
            spdlog::info("tail: {} was truncated; reading {} from offset {} first", log.path,
                         plan.rotated.path, plan.offset);
            follow(log, std::move(*copy.file), plan.offset, true);
            return;
        }
    }
    // An unterminated last line is dropped with the rest: its end was cut
    // away, and without a copy there is no telling what it was.
    spdlog::info("tail: {} was truncated; reading it again from its start", log.path);
    log.splitter.restart(0);
    log.read_position = 0;
    const FileStatus status = log.file->status();
    if (status.error == 0)
        log.file->retake_head(status.size);
}

void Tailer::Impl::follow(Log& log, FollowedFile file, std::uint64_t offset, bool is_copy) {
    drop_file_watch(log);
    log.file = std::move(file);
    log.file_is_copy = is_copy;
    log.committed.reset();
    log.missing_reported = false;
    log.splitter.restart(offset);
    log.read_position = offset;
    // Before the first read: whatever is appended after it is then seen.
    watch_file(log);
}

void Tailer::Impl::rewind(Log& log) {
    log.splitter.restart(log.held->offset, log.held->skipping_cut_line);
    log.read_position = log.held->offset;
    log.held.reset();
    log.dirty = true;
}

void Tailer::Impl::rewind_rotated(Log& log) {
    Log::Rotated& rotated = *log.rotated;
    rotated.splitter.restart(rotated.held->offset, rotated.held->skipping_cut_line);
    rotated.read_position = rotated.held->offset;
    rotated.held.reset();
    log.dirty = true;
}

void Tailer::Impl::hand_on(Log& log, std::string_view line, bool cut) {
    // After pause(), the rest of a chunk is read again on resume().
    if (log.held || stopped_)
        return;
    deliver(log, line, cut);
}

void Tailer::Impl::hand_on_late(Log& log, std::string_view line, bool cut) {
    if (log.rotated->held || stopped_)
        return;
    ++stats_.late_lines;
    deliver(log, line, cut);
}

void Tailer::Impl::deliver(Log& log, std::string_view line, bool cut) {
    ++stats_.lines;
    if (cut)
        ++stats_.cut_lines;
    caught_up_due_ = true;
    sink_.on_line(log.index, line, cut);
}

// --- failures ---

void Tailer::Impl::fail(Log& log, const std::string& what, int error) {
    ++stats_.read_errors;
    const std::string failure = what + ": " + describe_file_error(error);
    if (failure != log.failure)
        spdlog::warn("tail: {}: {}; retrying", log.path, failure);
    log.failure = failure;
    retry_later(log);
}

void Tailer::Impl::recovered(Log& log) {
    if (log.failure.empty())
        return;
    spdlog::info("tail: {}: read again", log.path);
    log.failure.clear();
    log.backoff.reset();
    // A polled log needs its timer: nothing else would wake it.
    if (!polled(log))
        log.retry_timer.cancel();
}

bool Tailer::Impl::polled(const Log& log) const {
    return (log.file && log.file_watch < 0 && inotify_limit_sysctl(log.watch_error)) ||
           (log.directory_watch.watch < 0 && inotify_limit_sysctl(log.directory_watch.error));
}

void Tailer::Impl::note_missing(Log& log) {
    // Not a failure: the file comes when Exim first writes to it, and its
    // directory's watch says when.
    if (!log.missing_reported)
        spdlog::info("tail: {} does not exist; waiting for it", log.path);
    log.missing_reported = true;
    log.failure.clear();
    log.backoff.reset();
}

void Tailer::Impl::retry_later(Log& log) {
    log.retry_timer.expires_after(polled(log) ? watch_limit_poll_interval : log.backoff.next());
    look_again_when_due(log, log.retry_timer);
}

void Tailer::Impl::look_again_when_due(Log& log, boost::asio::steady_timer& timer) {
    timer.async_wait(lifetime_.guarded([this, &log](const boost::system::error_code& error) {
        if (error || stopped_)
            return;
        log.dirty = true;
        schedule();
    }));
}

// --- Tailer ---

TailerOpening Tailer::open(boost::asio::io_context& io, std::vector<std::string> paths,
                           const std::vector<LogPosition>& resume, TailSink& sink,
                           std::chrono::milliseconds rotation_grace) {
    // InotifyWatches throws when inotify_init1 fails for want of inotify
    // (not for a limit, which is polled through): the one failure that
    // stops the tailer, made a value here, where the tailer is made.
    try {
        return {std::unique_ptr<Tailer>(new Tailer(
                    std::make_unique<Impl>(io, std::move(paths), resume, sink, rotation_grace))),
                {}};
    } catch (const std::system_error& error) {
        return {nullptr, error.what()};
    }
}

Tailer::Tailer(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

Tailer::~Tailer() = default;

void Tailer::start() {
    impl_->start();
}

void Tailer::pause() {
    impl_->pause();
}

void Tailer::resume() {
    impl_->resume();
}

void Tailer::stop() {
    impl_->stop();
}

std::vector<LogPosition> Tailer::positions() const {
    return impl_->positions();
}

TailStats Tailer::stats() const {
    return impl_->stats();
}

} // namespace exim_ban
