#include "pipeline/jail_runtime.hpp"

#include "store/store.hpp"

namespace exim_ban {

JailRuntime::JailRuntime(const JailConfig& config, const std::vector<LoadedFilter>& filters)
    : name(config.name)
    , judge_(config.policy, config.ignore, config.max_tracked_keys) {
    for (const auto& filter : filters) {
        sources_.push_back({filter.log_format, LineMatcher(filter.matcher_patterns()),
                            patterns_.size(), SessionAttempts{}});
        for (const auto& pattern : filter.failregex)
            patterns_.push_back(pattern.file + ":" + std::to_string(pattern.line));
    }
    pattern_hits_.assign(patterns_.size(), 0);
}

LineMatch JailRuntime::match(std::size_t source, std::string_view message) {
    LineMatch found = sources_[source].matcher.match(message);
    found.pattern += sources_[source].first_pattern;
    if (found.kind == LineMatch::Kind::hit)
        ++pattern_hits_[found.pattern];
    return found;
}

JailJudge::Outcome JailRuntime::judge(const IpAddress& host, std::int64_t time, std::int64_t now) {
    return judge_.hit(host, time, now);
}

void JailRuntime::note_ban(const BanKey& key, std::int64_t until) {
    judge_.tracker().note_ban(key, until);
}

void JailRuntime::lift_ban(const BanKey& key) {
    judge_.tracker().lift_ban(key);
}

BanDecision JailRuntime::renewal(const BanKey& key, std::int64_t now) const {
    return judge_.tracker().renewal(key, now);
}

BanKey JailRuntime::key_of(const IpAddress& address) const {
    return ban_key(address, policy().ipv6_prefix);
}

bool JailRuntime::ignores(const IpAddress& address) const {
    return address.is_loopback() || judge_.ignore().contains(address);
}

bool JailRuntime::would_cover_ignored(const BanKey& key) const {
    return !key.is_single_address() && judge_.ignore().overlaps(key);
}

void JailRuntime::carry_pattern_hits(const JailRuntime& earlier) {
    if (earlier.patterns_ == patterns_)
        pattern_hits_ = earlier.pattern_hits_;
}

StoreRead<RestoredMemory> JailRuntime::restore(Store& store) {
    HitTracker& tracker = judge_.tracker();
    const auto read = store.jail_memory(name, tracker.policy().findtime);
    if (!read)
        return read.failure();
    const JailMemory& memory = read.value();
    for (const auto& [key, history] : memory.keys)
        tracker.restore(key, history);
    for (const auto& hit : memory.recent_hits)
        tracker.replay(hit.key, hit.time);
    return RestoredMemory{memory.keys.size(), memory.recent_hits.size()};
}

} // namespace exim_ban
