// The Store interface and the records that cross it. The pipeline writes
// one Batch per transaction; a restart reads back offsets, active bans and
// key histories.
#pragma once

#include "core/ban_key.hpp"
#include "core/hit_tracker.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace exim_ban {

// A watched file and how far it has been read.
struct FileOffset {
    std::string path;
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::string head_hash; // of the file's first bytes: tells a new file from the old one
    std::uint64_t offset = 0;
};

struct StoredHit {
    std::string jail;
    BanKey key;
    std::int64_t time = 0; // log time, seconds
    std::uint32_t pattern = 0;
};

struct StoredBan {
    std::string jail;
    BanKey key;
    std::int64_t start = 0;
    std::int64_t expires = 0;
    std::string reason; // "maxretry", "recidive", "manual", ...
    std::string origin; // "log", "manual", "import"
};

struct StoredUnban {
    std::string jail; // empty: every jail
    BanKey key;
    std::int64_t at = 0;
};

struct Batch {
    std::vector<FileOffset> files;
    std::vector<StoredHit> hits;
    std::vector<StoredBan> bans;
    std::vector<StoredUnban> unbans;
    bool empty() const { return files.empty() && hits.empty() && bans.empty() && unbans.empty(); }
};

// A commit that did not happen: nothing of the batch is stored, and the
// caller keeps it to try again.
struct StoreFailure {
    std::string message;
    bool retry; // a locked or full database may succeed later
};

class Store {
  public:
    virtual ~Store() = default;
    // All of the batch, or nothing of it.
    virtual std::optional<StoreFailure> commit(const Batch& batch) = 0;
    virtual std::vector<FileOffset> file_offsets() = 0;
    // Bans not lifted whose expiry is after `now`.
    virtual std::vector<StoredBan> active_bans(std::int64_t now) = 0;
    virtual KeyHistory history(const std::string& jail, const BanKey& key) = 0;
    // Deletes hits older than `before`; lifetime counts stay.
    virtual std::optional<StoreFailure> purge_hits(std::int64_t before) = 0;
};

} // namespace exim_ban
