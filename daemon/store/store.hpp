// The Store interface and the records that cross it. The pipeline writes
// one Batch per transaction; a restart reads back offsets, active bans and
// key histories.
#pragma once

#include "core/ban_key.hpp"
#include "core/hit_tracker.hpp"
#include "core/log_position.hpp"
#include "core/trust_book.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace exim_ban {

// A watched file and how far it has been read (see core/log_position.hpp).
using FileOffset = LogPosition;

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
    std::string reason;      // "maxretry", "recidive", "manual", ...
    std::string origin;      // "log", "manual", "import"
    std::int64_t lifted = 0; // when an unban lifted it, 0 if never (read back only)
};

struct StoredUnban {
    std::string jail; // empty: every jail
    BanKey key;
    std::int64_t at = 0;
};

// A good login (a successregex's line): the key's trust in `account`.
struct StoredSuccess {
    std::string jail;
    BanKey key;
    std::string account;
    std::int64_t time = 0; // log time, seconds
};

// A known user's mistake that was excused (see core/trust_book.hpp): not a
// hit, but it counts toward trust_maxretry, also after a restart.
struct StoredMistake {
    std::string jail;
    BanKey key;
    std::int64_t time = 0;
};

// A Dovecot session's failed attempts counted so far from its auth
// process's lines (core/session_attempts.hpp); 0: its summary came, the
// session is over.
struct StoredSession {
    std::string jail;
    std::string session;
    std::uint32_t counted = 0;
    std::int64_t time = 0; // log time of its latest line, seconds
};

// The admin's `trust forget`: the key's trust in every account.
struct ForgottenTrust {
    std::string jail; // empty: every jail
    BanKey key;
};

// A ban of a key drops its trust in the same transaction (in its jail);
// a success of the key at or before the ban's start in the same batch is
// dropped with it.
struct Batch {
    std::vector<FileOffset> files;
    std::vector<StoredHit> hits;
    std::vector<StoredBan> bans;
    std::vector<StoredUnban> unbans;
    std::vector<StoredSuccess> successes;
    std::vector<StoredMistake> mistakes;
    std::vector<ForgottenTrust> forgotten;
    std::vector<StoredSession> sessions; // in the order they changed
    bool empty() const {
        return files.empty() && hits.empty() && bans.empty() && unbans.empty() &&
               successes.empty() && mistakes.empty() && forgotten.empty() && sessions.empty();
    }
};

// A commit that did not happen: nothing of the batch is stored, and the
// caller keeps it to try again.
struct StoreFailure {
    std::string message;
    bool retry; // a locked or full database may succeed later
};

// A read's result: the value read, or why it could not be read (a locked
// database may be read a moment later: `retry`). Reads fail as values, like
// commits, so that no caller guesses a cause from an exception.
template <typename T>
class StoreRead {
  public:
    StoreRead(T value)
        : result_(std::in_place_index<0>, std::move(value)) {}
    StoreRead(StoreFailure failure)
        : result_(std::in_place_index<1>, std::move(failure)) {}

    bool ok() const { return result_.index() == 0; }
    explicit operator bool() const { return ok(); }
    // Only when ok().
    T& value() & { return std::get<0>(result_); }
    const T& value() const& { return std::get<0>(result_); }
    T value() && { return std::get<0>(std::move(result_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    // Only when !ok().
    const StoreFailure& failure() const { return std::get<1>(result_); }

  private:
    std::variant<T, StoreFailure> result_;
};

// What a jail's hit tracker needs back after a restart.
struct JailMemory {
    std::vector<std::pair<BanKey, KeyHistory>> keys; // every key with hits or bans
    std::vector<StoredHit> recent_hits;              // in commit order
};

// What a jail's trust book needs back after a restart.
struct JailTrust {
    std::vector<TrustEntry> logins;      // last seen after the `since` asked for
    std::vector<StoredMistake> mistakes; // within findtime, oldest first
};

class Store {
  public:
    virtual ~Store() = default;
    // All of the batch, or nothing of it.
    virtual std::optional<StoreFailure> commit(const Batch& batch) = 0;
    // Each read returns a StoreFailure when the database cannot be read.
    virtual StoreRead<std::vector<FileOffset>> file_offsets() = 0;
    // Bans not lifted whose expiry is after `now`.
    virtual StoreRead<std::vector<StoredBan>> active_bans(std::int64_t now) = 0;
    virtual StoreRead<KeyHistory> history(const std::string& jail, const BanKey& key) = 0;
    // The jail's keys with their histories, and its hits of the batches
    // whose newest hit is within `findtime` of the jail's newest hit (what
    // HitTracker::replay needs to rebuild the findtime windows). Read at
    // start-up and reload.
    virtual StoreRead<JailMemory> jail_memory(const std::string& jail,
                                              std::chrono::seconds findtime) = 0;
    // The jail's logins last seen after `logins_since` and its excused
    // mistakes after `mistakes_since`. Read at start-up and reload.
    virtual StoreRead<JailTrust> jail_trust(const std::string& jail, std::int64_t logins_since,
                                            std::int64_t mistakes_since) = 0;
    // The jail's Dovecot sessions still open (a summary still to come), in
    // the order they were last changed. Read at start-up and reload.
    virtual StoreRead<std::vector<StoredSession>> open_sessions(const std::string& jail) = 0;
    // A key's hits in a jail, newest first, at most `limit` (of those not
    // purged yet). For `exim-banctl show`.
    virtual StoreRead<std::vector<StoredHit>> hits_of(const std::string& jail, const BanKey& key,
                                                      std::size_t limit) = 0;
    // Every ban of a key in any jail, oldest first, lifted or not.
    virtual StoreRead<std::vector<StoredBan>> bans_of(const BanKey& key) = 0;
    // Deletes hits (and open sessions) older than `before`; lifetime counts
    // stay.
    virtual std::optional<StoreFailure> purge_hits(std::int64_t before) = 0;
};

} // namespace exim_ban
