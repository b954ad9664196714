#include "core/hit_tracker.hpp"

#include <algorithm>
#include <vector>

namespace exim_ban {

HitTracker::HitTracker(JailPolicy policy, std::size_t max_keys)
    : policy_(policy)
    , max_keys_(std::max<std::size_t>(max_keys, 1)) {
    policy_.maxretry = std::max(policy_.maxretry, 1U);
}

HitTracker::KeyState& HitTracker::state_of(const BanKey& key) {
    auto found = keys_.find(key);
    if (found != keys_.end()) {
        found->second.last_active = ++sequence_;
        return found->second;
    }
    if (keys_.size() >= max_keys_)
        forget_idlest();
    KeyState& state = keys_[key];
    if (policy_.maxretry > KeyState::inline_hits)
        state.heap_recent = std::make_unique<std::int64_t[]>(policy_.maxretry);
    state.last_active = ++sequence_;
    return state;
}

void HitTracker::forget_idlest() {
    // Forgetting one key at a time would need an ordered structure costing
    // memory per key; finding the idlest eighth in one pass costs nothing
    // per key and amortizes to a constant per new key.
    std::vector<std::uint64_t> activity;
    activity.reserve(keys_.size());
    for (const auto& [key, state] : keys_)
        activity.push_back(state.last_active);
    const std::size_t forget = std::max<std::size_t>(keys_.size() / 8, 1);
    std::nth_element(activity.begin(), activity.begin() + static_cast<std::ptrdiff_t>(forget - 1),
                     activity.end());
    const std::uint64_t cutoff = activity[forget - 1];
    for (auto it = keys_.begin(); it != keys_.end();) {
        if (it->second.last_active <= cutoff) {
            it = keys_.erase(it);
            ++dropped_;
        } else {
            ++it;
        }
    }
}

bool HitTracker::enter_window(KeyState& state, std::int64_t time) const {
    const std::uint32_t capacity = policy_.maxretry;
    std::int64_t* recent = state.recent();
    const std::int64_t newest =
        state.recent_count == 0 ? time
                                : recent[(state.recent_head + state.recent_count - 1) % capacity];
    if (time < newest)
        return false; // out of order: counted in the lifetime, not in the window
    if (time < state.banned_until)
        return false; // already banned: the firewall has it

    // Append, dropping the oldest when the ring is full.
    if (state.recent_count == capacity) {
        state.recent_head = (state.recent_head + 1) % capacity;
        --state.recent_count;
    }
    recent[(state.recent_head + state.recent_count) % capacity] = time;
    ++state.recent_count;

    // Hits older than findtime no longer count: the window is (time - findtime, time].
    while (state.recent_count > 0 && recent[state.recent_head] <= time - policy_.findtime.count()) {
        state.recent_head = (state.recent_head + 1) % capacity;
        --state.recent_count;
    }
    return state.recent_count == capacity;
}

std::optional<BanDecision> HitTracker::record(const BanKey& key, std::int64_t time) {
    KeyState& state = state_of(key);
    ++state.lifetime_hits;
    if (!enter_window(state, time))
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

void HitTracker::record_stale(const BanKey& key) {
    ++state_of(key).lifetime_hits;
}

void HitTracker::replay(const BanKey& key, std::int64_t time) {
    KeyState& state = state_of(key);
    // The ban this hit completed is already in the history restored before
    // (or was withheld); either way the count starts afresh, as it did.
    if (enter_window(state, time))
        state.recent_count = 0;
}

void HitTracker::note_ban(const BanKey& key, std::int64_t until) {
    KeyState& state = state_of(key);
    ++state.bans;
    state.banned_until = std::max(state.banned_until, until);
    state.recent_count = 0;
}

BanDecision HitTracker::renewal(const BanKey& key, std::int64_t time) const {
    const auto found = keys_.find(key);
    // A key forgotten under a flood renews as a first offender.
    const KeyState empty;
    const KeyState& state = found == keys_.end() ? empty : found->second;
    const BanLength length = ban_length(policy_, state.bans, state.lifetime_hits);
    return BanDecision{
        key, time, length.duration, BanReason::knock, state.bans + 1, state.lifetime_hits, 0};
}

void HitTracker::lift_ban(const BanKey& key) {
    auto found = keys_.find(key);
    if (found == keys_.end())
        return;
    found->second.banned_until = 0;
    found->second.recent_count = 0;
}

void HitTracker::restore(const BanKey& key, const KeyHistory& history) {
    KeyState& state = state_of(key);
    state.lifetime_hits = history.lifetime_hits;
    state.bans = history.bans;
    state.banned_until = history.banned_until;
}

} // namespace exim_ban
