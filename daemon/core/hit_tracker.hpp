// Counts one jail's hits per key in log time and says when a key has earned
// a ban. Pure: the caller passes each hit's time, so a replayed backlog is
// judged by when it happened, and tests need no clock.
//
// Memory is capped: at `max_keys` the eighth of the keys idle longest is
// forgotten at once (and counted), so a flood of distinct addresses costs a
// bounded amount and each new key an amortized constant time.
#pragma once

#include "core/ban_key.hpp"
#include "core/jail_policy.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>

namespace exim_ban {

struct BanDecision {
    BanKey key;
    std::int64_t start = 0; // the time of the hit that completed the count
    std::chrono::seconds duration{0};
    BanReason reason = BanReason::maxretry;
    unsigned ban_number = 1;         // 1 for a first ban
    std::uint64_t lifetime_hits = 0; // including this one
    std::uint32_t window_hits = 0;   // inside findtime, including this one
};

// What the store remembers of a key across restarts.
struct KeyHistory {
    std::uint64_t lifetime_hits = 0;
    unsigned bans = 0;
    std::int64_t banned_until = 0; // end of the latest ban, 0 if none
};

class HitTracker {
  public:
    HitTracker(JailPolicy policy, std::size_t max_keys);

    // Records a hit of `key` at `time` (seconds). Returns the ban it
    // completes: `maxretry` hits inside `findtime`, the key not already
    // banned at `time`. Hits older than the newest one seen for the key are
    // counted but cannot make a ban out of order.
    std::optional<BanDecision> record(const BanKey& key, std::int64_t time);

    // A hit too old to judge (read from a backlog, older than findtime):
    // counted in the key's lifetime, never in its window.
    void record_stale(const BanKey& key);

    // A manual ban (or one restored at start-up) that the tracker must know
    // of, so that it neither bans the key again while it lasts nor forgets
    // it when escalating the next one.
    void note_ban(const BanKey& key, std::int64_t until);
    // The ban that renews a banned key's ban from `time` (bantime.knock_extend):
    // its next escalated time, as a new ban would get. Changes nothing; once
    // the renewal is committed, note_ban() records it.
    BanDecision renewal(const BanKey& key, std::int64_t time) const;
    // An unban: the key may be banned again by its next hits; its earlier
    // bans still count for escalation.
    void lift_ban(const BanKey& key);
    // Seeds a key's lifetime hits and ban count from the store.
    void restore(const BanKey& key, const KeyHistory& history);
    // Puts a stored hit back into the key's findtime window, as record()
    // did, without counting it again or judging it: after restore(), the
    // store's recent hits of a jail replayed in commit order give the window
    // the key had before the restart.
    void replay(const BanKey& key, std::int64_t time);

    std::size_t tracked_keys() const { return keys_.size(); }
    std::uint64_t dropped_keys() const { return dropped_; }
    const JailPolicy& policy() const { return policy_; }

  private:
    // Per key, as small as it can be: a flood fills max_keys of these.
    struct KeyState {
        // The times of the last `maxretry` hits, oldest first (a ring):
        // inline for the usual maxretry, on the heap beyond.
        static constexpr std::uint32_t inline_hits = 6;
        std::array<std::int64_t, inline_hits> inline_recent{};
        std::unique_ptr<std::int64_t[]> heap_recent;
        std::uint64_t lifetime_hits = 0;
        std::int64_t banned_until = 0;
        std::uint64_t last_active = 0; // the tracker's hit sequence number
        std::uint32_t recent_count = 0;
        std::uint32_t recent_head = 0;
        unsigned bans = 0;
        std::int64_t* recent() { return heap_recent ? heap_recent.get() : inline_recent.data(); }
    };
    KeyState& state_of(const BanKey& key);
    // Appends a hit to the window; true when the window is full (maxretry
    // hits inside findtime, the key not banned at `time`).
    bool enter_window(KeyState& state, std::int64_t time) const;
    void forget_idlest();

    JailPolicy policy_;
    std::size_t max_keys_;
    std::unordered_map<BanKey, KeyState, IpPrefixHash> keys_;
    std::uint64_t sequence_ = 0;
    std::uint64_t dropped_ = 0;
};

} // namespace exim_ban
