#include "pipeline/jail_runtime.hpp"

#include "store/store.hpp"

namespace exim_ban {

JailRuntime::JailRuntime(const JailConfig& config, const std::vector<LoadedFilter>& filters)
    : name(config.name)
    , judge_(config.policy, config.ignore, config.max_tracked_keys) {
    for (const auto& filter : filters) {
        const auto success = filter.success_patterns();
        sources_.push_back(
            {filter.log_format, LineMatcher(filter.matcher_patterns()),
             success ? std::optional<LineMatcher>(LineMatcher(*success)) : std::nullopt,
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

LineMatch JailRuntime::match_success(std::size_t source, std::string_view message) const {
    const auto& success = sources_[source].success;
    return success ? success->match(message) : LineMatch{};
}

JailJudge::Outcome JailRuntime::judge(const IpAddress& host, std::int64_t time, std::int64_t now,
                                      std::string_view account) {
    return judge_.hit(host, time, now, account);
}

std::optional<BanKey> JailRuntime::record_login(const IpAddress& host, std::string_view account,
                                                std::int64_t time) {
    if (!judge_.trust().enabled() || account.empty())
        return std::nullopt;
    const BanKey key = key_of(host);
    judge_.trust().record_login(key, account, time);
    return key;
}

void JailRuntime::note_ban(const BanKey& key, std::int64_t until) {
    judge_.tracker().note_ban(key, until);
    judge_.trust().forget(key);
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
    const auto sessions = store.open_sessions(name);
    if (!sessions)
        return sessions.failure();
    // A session id is Dovecot's, unique: the source that wrote it is the
    // only one that will see it again.
    for (auto& source : sources_) {
        for (const StoredSession& session : sessions.value())
            source.sessions.restore(session.session, session.counted);
    }
    const JailMemory& memory = read.value();
    for (const auto& [key, history] : memory.keys)
        tracker.restore(key, history);
    for (const auto& hit : memory.recent_hits)
        tracker.replay(hit.key, hit.time);
    return RestoredMemory{memory.keys.size(), memory.recent_hits.size()};
}

StoreRead<std::size_t> JailRuntime::restore_trust(Store& store, std::int64_t now) {
    TrustBook& trust = judge_.trust();
    if (!trust.enabled())
        return std::size_t{0};
    const auto read = store.jail_trust(name, now - trust.rules().trust_time.count(),
                                       now - trust.rules().findtime.count());
    if (!read)
        return read.failure();
    for (const TrustEntry& login : read->logins)
        trust.record_login(login.key, login.account, login.last_seen);
    for (const StoredMistake& mistake : read->mistakes)
        trust.replay_mistake(mistake.key, mistake.time);
    return read->logins.size();
}

} // namespace exim_ban
