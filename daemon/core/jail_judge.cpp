#include "core/jail_judge.hpp"

namespace exim_ban {

JailJudge::JailJudge(const JailPolicy& policy, CidrSet ignore, std::size_t max_keys)
    : tracker_(policy, max_keys)
    , ignore_(std::move(ignore)) {}

JailJudge::Outcome JailJudge::hit(const IpAddress& host, std::int64_t time) {
    const BanKey key = ban_key(host, tracker_.policy().ipv6_prefix);
    if (host.is_loopback() || ignore_.contains(host))
        return {Verdict::ignored, key, std::nullopt};
    auto decision = tracker_.record(key, time);
    if (!decision)
        return {Verdict::counted, key, std::nullopt};
    // The overlap test walks the ignore list, so it runs only when a ban is due.
    if (!key.is_single_address() && ignore_.overlaps(key))
        return {Verdict::protected_, key, std::nullopt};
    return {Verdict::banned, key, decision};
}

JailJudge::Outcome JailJudge::hit(const IpAddress& host, std::int64_t time, std::int64_t now) {
    if (time > now - tracker_.policy().findtime.count())
        return hit(host, time);
    const BanKey key = ban_key(host, tracker_.policy().ipv6_prefix);
    if (host.is_loopback() || ignore_.contains(host))
        return {Verdict::ignored, key, std::nullopt};
    tracker_.record_stale(key);
    return {Verdict::counted, key, std::nullopt};
}

} // namespace exim_ban
