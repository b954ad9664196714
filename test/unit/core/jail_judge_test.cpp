#include "core/jail_judge.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

namespace {
JailJudge judge_with(std::initializer_list<const char*> ignored) {
    JailPolicy policy;
    policy.maxretry = 2;
    CidrSet ignore;
    for (const char* text : ignored)
        ignore.add(*IpPrefix::parse(text));
    return JailJudge(policy, std::move(ignore), 1000);
}
IpAddress ip(const char* text) {
    return *IpAddress::parse(text);
}
} // namespace

TEST_CASE("ignored hosts are never counted nor banned", "[judge]") {
    auto judge = judge_with({"192.0.2.0/24"});
    for (int t = 0; t < 100; ++t) {
        CHECK(judge.hit(ip("192.0.2.7"), t).verdict == JailJudge::Verdict::ignored);
        CHECK(judge.hit(ip("127.0.0.1"), t).verdict ==
              JailJudge::Verdict::ignored); // loopback, always
        CHECK(judge.hit(ip("::1"), t).verdict == JailJudge::Verdict::ignored);
    }
    CHECK(judge.tracker().tracked_keys() == 0);
    CHECK(judge.hit(ip("198.51.100.1"), 0).verdict == JailJudge::Verdict::counted);
    const auto outcome = judge.hit(ip("198.51.100.1"), 1);
    CHECK(outcome.verdict == JailJudge::Verdict::banned);
    REQUIRE(outcome.ban);
    CHECK(outcome.ban->key.to_string() == "198.51.100.1");
}

TEST_CASE("a /64 ban that would cover an ignored address is not made", "[judge]") {
    auto judge = judge_with({"2001:db8:1:2::25"});
    CHECK(judge.hit(ip("2001:db8:1:2::99"), 0).verdict == JailJudge::Verdict::counted);
    CHECK(judge.hit(ip("2001:db8:1:2::98"), 1).verdict == JailJudge::Verdict::protected_);
    CHECK(judge.hit(ip("2001:db8:1:3::98"), 2).verdict == JailJudge::Verdict::counted);
    const auto outcome = judge.hit(ip("2001:db8:1:3::99"), 3);
    CHECK(outcome.verdict == JailJudge::Verdict::banned);
    CHECK(outcome.key.to_string() == "2001:db8:1:3::/64");
}

TEST_CASE("a backlog hit older than findtime is counted but cannot start a ban", "[judge]") {
    auto judge = judge_with({"192.0.2.0/24"}); // maxretry 2, findtime 600
    const std::int64_t now = 100'000;
    // Ten old hits a second apart: each would ban, were it judged.
    for (std::int64_t t = now - 1000; t < now - 990; ++t)
        CHECK(judge.hit(ip("198.51.100.1"), t, now).verdict == JailJudge::Verdict::counted);
    CHECK(judge.hit(ip("192.0.2.7"), now - 1000, now).verdict == JailJudge::Verdict::ignored);
    // At exactly findtime ago the hit is still too old; one second later it counts.
    CHECK(judge.hit(ip("198.51.100.2"), now - 600, now).verdict == JailJudge::Verdict::counted);
    CHECK(judge.hit(ip("198.51.100.2"), now - 600, now).verdict == JailJudge::Verdict::counted);
    CHECK(judge.hit(ip("198.51.100.3"), now - 599, now).verdict == JailJudge::Verdict::counted);
    const auto fresh = judge.hit(ip("198.51.100.3"), now - 598, now);
    CHECK(fresh.verdict == JailJudge::Verdict::banned);
    // The old hits still count in the lifetime (recidive): 10 old + 2 fresh.
    CHECK(judge.hit(ip("198.51.100.1"), now, now).verdict == JailJudge::Verdict::counted);
    const auto banned = judge.hit(ip("198.51.100.1"), now + 1, now + 1);
    REQUIRE(banned.ban);
    CHECK(banned.ban->lifetime_hits == 12);
}
