// The Store on an SQLite file.
#pragma once

#include "store/sqlite_database.hpp"
#include "store/store.hpp"
#include "store/wal_checkpointer.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace exim_ban {

class SqliteStore final : public Store {
  public:
    // daemon: exim-band, the one writer of hits and lifetime counts.
    // bans_only: a tool beside it (exim-banctl import-fail2ban) that commits
    // bans and no hits; it leaves the batches not counted yet alone, because
    // a running daemon holds their counts in memory and would count them
    // twice.
    enum class Writer { daemon, bans_only };
    // Opens or creates the database, checks that its pages are intact
    // (PRAGMA quick_check) before writing anything, sets WAL mode, migrates
    // the schema and, for the daemon, counts any batches a crash left
    // uncounted. Throws StoreOpenError saying what is wrong (unreadable,
    // read-only, locked, not a database or damaged, newer schema) and what
    // to do; a damaged or newer database is left byte for byte as it was.
    explicit SqliteStore(const std::filesystem::path& path, Writer writer = Writer::daemon);
    ~SqliteStore() override;

    std::optional<StoreFailure> commit(const Batch& batch) override;
    StoreRead<std::vector<FileOffset>> file_offsets() override;
    StoreRead<std::vector<StoredBan>> active_bans(std::int64_t now) override;
    StoreRead<KeyHistory> history(const std::string& jail, const BanKey& key) override;
    StoreRead<JailMemory> jail_memory(const std::string& jail,
                                      std::chrono::seconds findtime) override;
    StoreRead<JailTrust> jail_trust(const std::string& jail, std::int64_t logins_since,
                                    std::int64_t mistakes_since) override;
    StoreRead<std::vector<StoredSession>> open_sessions(const std::string& jail) override;
    StoreRead<std::vector<StoredHit>> hits_of(const std::string& jail, const BanKey& key,
                                              std::size_t limit) override;
    StoreRead<std::vector<StoredBan>> bans_of(const BanKey& key) override;
    std::optional<StoreFailure> purge_hits(std::int64_t before) override;

    // Writes the lifetime counts gathered since the last checkpoint. commit()
    // does so by itself once `checkpoint_keys` keys wait (a memory bound, and
    // one on how long that commit holds the daemon's thread: a flood's 50,000
    // new keys take about 0.3 s, 200,000 took 3-4 s);
    // the daemon calls it on a timer and at shutdown, which bounds how far
    // the blacklist view lags. Nothing is lost in between: opening the
    // database folds the batches past the last checkpoint in again.
    std::optional<StoreFailure> checkpoint_counts();
    static constexpr std::size_t checkpoint_keys = 50'000;
    // The WAL is copied into the database by a thread of its own once it
    // holds this many pages (SQLite's own default, which it would run inside
    // a commit).
    static constexpr int wal_checkpoint_pages = 1000;
    std::uint64_t wal_checkpoints() const { return checkpointer_->checkpoints(); }

  private:
    struct Statements;
    // Per jail, per key: hits not yet in key_hits.
    using Counts = std::map<std::string, std::unordered_map<BanKey, std::int64_t, IpPrefixHash>>;
    std::int64_t write(const Batch& batch);
    void write_trust(const Batch& batch);
    static void count_hits(const Batch& batch, Counts& counts, std::size_t* new_keys);
    void add_counts(const Counts& counts);
    void write_counts(const Counts& counts, std::int64_t counted_through);
    void fold_uncounted_batches();
    // Runs `work` in one transaction; on an SQLite error rolls it back.
    std::optional<StoreFailure> in_transaction(const std::function<void()>& work);

    SqliteDatabase database_;
    std::unique_ptr<Statements> statements_;
    std::unique_ptr<WalCheckpointer> checkpointer_;
    Counts pending_; // committed hits not yet in key_hits
    std::size_t pending_keys_ = 0;
    std::int64_t last_batch_id_ = 0; // the newest hit_batches row committed
};

class StoreOpenError : public std::runtime_error {
  public:
    explicit StoreOpenError(const std::string& message, bool damaged = false)
        : std::runtime_error(message)
        , damaged_(damaged) {}
    // The file is no SQLite database or a damaged one (not locked, not
    // unreadable, not too new): only moving it aside gets past it.
    bool damaged() const { return damaged_; }

  private:
    bool damaged_;
};

} // namespace exim_ban
