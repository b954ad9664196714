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

TEST_CASE("a trusted user's stale password is excused; other accounts are banned",
          "[judge][trust]") {
    JailPolicy policy;
    policy.maxretry = 5;
    JailJudge judge(policy, CidrSet{}, 1000);
    const IpAddress office = ip("192.0.2.7");
    judge.trust().record_login(ban_key(office, 64), "alice", 100);
    // A phone retrying a stale password 20 times (trust_maxretry): no ban.
    for (int i = 0; i < 20; ++i)
        CHECK(judge.hit(office, 200 + i, "alice").verdict == JailJudge::Verdict::excused);
    CHECK(judge.tracker().tracked_keys() == 0);
    // A second account from the same key: banned at maxretry.
    for (int i = 0; i < 4; ++i)
        CHECK(judge.hit(office, 300 + i, "bob").verdict == JailJudge::Verdict::counted);
    CHECK(judge.hit(office, 304, "bob").verdict == JailJudge::Verdict::banned);
    // The ban dropped the key's trust.
    CHECK_FALSE(judge.trust().trusts(ban_key(office, 64), "alice", 305));
}

TEST_CASE("past trust_maxretry a known user's mistakes count", "[judge][trust]") {
    JailPolicy policy;
    policy.maxretry = 5;
    policy.trust_maxretry = 20;
    JailJudge judge(policy, CidrSet{}, 1000);
    const IpAddress office = ip("192.0.2.7");
    judge.trust().record_login(ban_key(office, 64), "alice", 100);
    int excused = 0;
    JailJudge::Verdict last = JailJudge::Verdict::counted;
    for (int i = 0; i < 30 && last != JailJudge::Verdict::banned; ++i) {
        last = judge.hit(office, 200 + i, "alice").verdict;
        excused += last == JailJudge::Verdict::excused ? 1 : 0;
    }
    CHECK(excused == 20);
    CHECK(last == JailJudge::Verdict::banned); // the 25th: 20 excused + maxretry 5
}

TEST_CASE("trust of one key does not excuse another key", "[judge][trust]") {
    JailPolicy policy;
    policy.maxretry = 2;
    JailJudge judge(policy, CidrSet{}, 1000);
    judge.trust().record_login(ban_key(ip("192.0.2.7"), 64), "alice", 100);
    CHECK(judge.hit(ip("192.0.2.8"), 200, "alice").verdict == JailJudge::Verdict::counted);
    CHECK(judge.hit(ip("192.0.2.8"), 201, "alice").verdict == JailJudge::Verdict::banned);
}

TEST_CASE("a phone retrying a stale password 30 times a minute apart is never banned",
          "[judge][trust]") {
    JailJudge judge(JailPolicy{}, CidrSet{}, 1000); // maxretry 5, findtime 10m, trust_maxretry 20
    const IpAddress office = ip("192.0.2.7");
    judge.trust().record_login(ban_key(office, 64), "alice", 0);
    for (int i = 0; i < 30; ++i)
        CHECK(judge.hit(office, 3600 + 60 * i, "alice").verdict == JailJudge::Verdict::excused);
    // A second account from the same key: banned at maxretry.
    for (int i = 0; i < 4; ++i)
        CHECK(judge.hit(office, 6000 + i, "bob").verdict == JailJudge::Verdict::counted);
    CHECK(judge.hit(office, 6004, "bob").verdict == JailJudge::Verdict::banned);
}
