#include "core/jail_judge.hpp"

namespace exim_ban {

JailJudge::JailJudge(const JailPolicy& policy, CidrSet ignore, std::size_t max_keys)
    : tracker_(policy, max_keys)
    , trust_({policy.trust_time, policy.trust_maxretry, policy.findtime}, max_keys)
    , ignore_(std::move(ignore)) {}

JailJudge::Outcome JailJudge::hit(const IpAddress& host, std::int64_t time,
                                  std::string_view account) {
    const BanKey key = ban_key(host, tracker_.policy().ipv6_prefix);
    if (host.is_loopback() || ignore_.contains(host))
        return {Verdict::ignored, key, std::nullopt};
    if (trust_.excuse(key, account, time))
        return {Verdict::excused, key, std::nullopt};
    auto decision = tracker_.record(key, time);
    if (!decision)
        return {Verdict::counted, key, std::nullopt};
    // The overlap test walks the ignore list, so it runs only when a ban is due.
    if (!key.is_single_address() && ignore_.overlaps(key))
        return {Verdict::protected_, key, std::nullopt};
    // A banned key has shown it is not (only) a known user: its logins
    // vouch for nothing any more.
    trust_.forget(key);
    return {Verdict::banned, key, decision};
}

JailJudge::Outcome JailJudge::hit(const IpAddress& host, std::int64_t time, std::int64_t now,
                                  std::string_view account) {
    if (time > now - tracker_.policy().findtime.count())
        return hit(host, time, account);
    const BanKey key = ban_key(host, tracker_.policy().ipv6_prefix);
    if (host.is_loopback() || ignore_.contains(host))
        return {Verdict::ignored, key, std::nullopt};
    if (trust_.excuse(key, account, time))
        return {Verdict::excused, key, std::nullopt};
    tracker_.record_stale(key);
    return {Verdict::counted, key, std::nullopt};
}

} // namespace exim_ban
