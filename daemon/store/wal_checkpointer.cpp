#include "store/wal_checkpointer.hpp"

#include <sqlite3.h>

namespace exim_ban {

WalCheckpointer::WalCheckpointer(const std::filesystem::path& database)
    : database_(database)
    , thread_([this] { run(); }) {}

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
        if (code == SQLITE_OK)
            ++checkpoints_;
        else
            ++failures_;
        lock.lock();
    }
}

} // namespace exim_ban
