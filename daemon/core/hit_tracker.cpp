#include "core/hit_tracker.hpp"

#include <algorithm>

namespace exim_ban {

HitTracker::HitTracker(JailPolicy policy, std::size_t max_keys)
    : policy_(policy)
    , max_keys_(std::max<std::size_t>(max_keys, 1)) {
    policy_.maxretry = std::max(policy_.maxretry, 1U);
}

HitTracker::KeyState& HitTracker::state_of(const BanKey& key) {
    auto found = keys_.find(key);
    if (found != keys_.end()) {
        // Most recently active goes to the back of the idle order.
        idle_order_.splice(idle_order_.end(), idle_order_, found->second.idle_position);
        return found->second;
    }
    if (keys_.size() >= max_keys_)
        forget_idlest();
    KeyState state;
    state.recent = std::make_unique<std::int64_t[]>(policy_.maxretry);
    state.idle_position = idle_order_.insert(idle_order_.end(), key);
    return keys_.emplace(key, std::move(state)).first->second;
}

void HitTracker::forget_idlest() {
    keys_.erase(idle_order_.front());
    idle_order_.pop_front();
    ++dropped_;
}

std::optional<BanDecision> HitTracker::record(const BanKey& key, std::int64_t time) {
    KeyState& state = state_of(key);
    ++state.lifetime_hits;

    const std::uint32_t capacity = policy_.maxretry;
    const std::int64_t newest =
        state.recent_count == 0
            ? time
            : state.recent[(state.recent_head + state.recent_count - 1) % capacity];
    if (time < newest)
        return std::nullopt; // out of order: counted in the lifetime, not in the window
    if (time < state.banned_until)
        return std::nullopt; // already banned: the firewall has it

    // Append, dropping the oldest when the ring is full.
    if (state.recent_count == capacity) {
        state.recent_head = (state.recent_head + 1) % capacity;
        --state.recent_count;
    }
    state.recent[(state.recent_head + state.recent_count) % capacity] = time;
    ++state.recent_count;

    // Hits older than findtime no longer count: the window is (time - findtime, time].
    while (state.recent_count > 0 &&
           state.recent[state.recent_head] <= time - policy_.findtime.count()) {
        state.recent_head = (state.recent_head + 1) % capacity;
        --state.recent_count;
    }
    if (state.recent_count < capacity)
        return std::nullopt;

    const BanLength length = ban_length(policy_, state.bans, state.lifetime_hits);
    BanDecision decision{key,
                         time,
                         length.duration,
                         length.reason,
                         state.bans + 1,
                         state.lifetime_hits,
                         state.recent_count};
    ++state.bans;
    state.banned_until = time + length.duration.count();
    state.recent_count = 0; // a ban starts the count afresh, as fail2ban does
    return decision;
}

void HitTracker::note_ban(const BanKey& key, std::int64_t until) {
    KeyState& state = state_of(key);
    ++state.bans;
    state.banned_until = std::max(state.banned_until, until);
    state.recent_count = 0;
}

void HitTracker::restore(const BanKey& key, const KeyHistory& history) {
    KeyState& state = state_of(key);
    state.lifetime_hits = history.lifetime_hits;
    state.bans = history.bans;
    state.banned_until = history.banned_until;
}

} // namespace exim_ban
