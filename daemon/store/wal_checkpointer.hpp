// Copies the WAL back into the database file on a thread of its own, over a
// connection of its own. A checkpoint syncs the disk (10-50 ms here, seconds
// when the disk is busy writing back); run by SQLite inside a commit, it
// would hold the daemon's one thread, and every ban behind it. Commits in WAL
// mode with synchronous=NORMAL do not sync, so with this the daemon's thread
// never waits for the disk.
#pragma once

#include "store/sqlite_database.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>

namespace exim_ban {

class WalCheckpointer {
  public:
    // Opens its connection to `database` (which must exist, in WAL mode).
    // Throws SqliteError.
    explicit WalCheckpointer(const std::filesystem::path& database);
    // Finishes a checkpoint under way, then stops.
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

    // Asks for a checkpoint; returns at once. Requests made while one runs
    // make one more afterwards, not one each.
    void request();

    std::uint64_t checkpoints() const { return checkpoints_; }
    // Checkpoints that failed (an I/O error, the disk full); the next
    // request tries again, the WAL keeps everything meanwhile. The first
    // failure, and the first success after failures, are logged.
    std::uint64_t failures() const { return failures_; }

  private:
    void run();
    void note(int code);

    SqliteDatabase database_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool requested_ = false;
    bool stopping_ = false;
    std::atomic<std::uint64_t> checkpoints_{0};
    std::atomic<std::uint64_t> failures_{0};
    bool failing_ = false; // the thread's own
    std::thread thread_;   // last: starts once everything above exists
};

} // namespace exim_ban
