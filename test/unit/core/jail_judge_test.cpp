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
