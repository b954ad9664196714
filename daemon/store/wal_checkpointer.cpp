#include "store/wal_checkpointer.hpp"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

namespace exim_ban {

WalCheckpointer::WalCheckpointer(const std::filesystem::path& database)
    : database_(database) {
    // A connection learns that the database is in WAL mode from its first
    // read. Until then SQLite's checkpoint finds no WAL open and returns
    // SQLITE_OK having copied nothing: the WAL would grow for as long as
    // the daemon runs.
    database_.query_int("PRAGMA schema_version");
    thread_ = std::thread([this] { run(); });
}

WalCheckpointer::~WalCheckpointer() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void WalCheckpointer::request() {
    {
        std::lock_guard lock(mutex_);
        requested_ = true;
    }
    wake_.notify_one();
}

void WalCheckpointer::run() {
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait(lock, [this] { return requested_ || stopping_; });
        if (stopping_)
            return;
        requested_ = false;
        lock.unlock();
        // PASSIVE: copies what no reader still needs and never waits for
        // the writer, which goes on appending to the WAL meanwhile.
        const int code = sqlite3_wal_checkpoint_v2(database_.handle(), nullptr,
                                                   SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        note(code);
        lock.lock();
    }
}

void WalCheckpointer::note(int code) {
    if (code == SQLITE_OK) {
        ++checkpoints_;
        if (failing_)
            spdlog::info("store: the WAL of {} is checkpointed again", database_.path().string());
        failing_ = false;
        return;
    }
    ++failures_;
    if (!failing_)
        spdlog::warn("store: cannot checkpoint the WAL of {}: {}; it keeps every commit and is "
                     "tried again after the next one",
                     database_.path().string(), sqlite3_errmsg(database_.handle()));
    failing_ = true;
}

} // namespace exim_ban
