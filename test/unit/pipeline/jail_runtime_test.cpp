#include "support/pipeline_rig.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using namespace exim_ban::testing;

namespace {

const std::string failure_message =
    "login authenticator failed for (ylmf-pc) [192.0.2.7]: 535 Incorrect authentication data "
    "(set_id=admin)";

std::int64_t at(const char* time) {
    return wall_ms(time) / 1000;
}

} // namespace

TEST_CASE("a jail counts the lines each pattern matched", "[pipeline]") {
    auto jail = exim_jail();
    REQUIRE_FALSE(jail->patterns().empty());
    const LineMatch hit = jail->match(0, failure_message);
    REQUIRE(hit.kind == LineMatch::Kind::hit);
    CHECK(jail->match(0, "1tXyZa-000123-AB <= someone@example.org H=(x) [192.0.2.9]").kind !=
          LineMatch::Kind::hit);
    CHECK(jail->pattern_hits()[hit.pattern] == 1);
    std::uint64_t total = 0;
    for (const auto count : jail->pattern_hits())
        total += count;
    CHECK(total == 1);
}

TEST_CASE("a jail's sources each match with their own filter, the patterns numbered across them",
          "[pipeline]") {
    JailConfig config;
    config.name = "mail";
    const auto load = [](const char* name) {
        return load_filter(FilterSpec{name, {}}, EXIM_BAN_FILTERS_DIR, DiskTextFileReader{});
    };
    const std::vector<LoadedFilter> filters{load("exim"), load("exim-spam")};
    JailRuntime jail(config, filters);
    REQUIRE(jail.patterns().size() == filters[0].failregex.size() + filters[1].failregex.size());
    const std::string spam = "H=(x) [192.0.2.8] F=<a@example.net> rejected RCPT "
                             "<bob@lab.example>: rejected because 192.0.2.8 is in a black list at "
                             "zen.spamhaus.org";
    // The second source's filter, not the first's, takes its line.
    CHECK(jail.match(0, spam).kind == LineMatch::Kind::none);
    const LineMatch second = jail.match(1, spam);
    REQUIRE(second.kind == LineMatch::Kind::hit);
    CHECK(second.pattern >= filters[0].failregex.size());
    CHECK(jail.pattern_hits()[second.pattern] == 1);
    const LineMatch first = jail.match(0, failure_message);
    REQUIRE(first.kind == LineMatch::Kind::hit);
    CHECK(first.pattern < filters[0].failregex.size());
}

TEST_CASE("a jail's pattern counts go on after a reload while its patterns stay", "[pipeline]") {
    auto earlier = exim_jail();
    const std::size_t pattern = earlier->match(0, failure_message).pattern;
    auto later = exim_jail();
    later->carry_pattern_hits(*earlier);
    CHECK(later->pattern_hits()[pattern] == 1);
}

TEST_CASE("a ban noted from outside the log holds back the log's ban, and lifting it ends that",
          "[pipeline]") {
    auto jail = exim_jail();
    const IpAddress host = *IpAddress::parse("192.0.2.7");
    const BanKey banned = jail->key_of(host);
    jail->note_ban(banned, at("11:00:00"));
    for (const char* time : {"10:00:00", "10:00:01", "10:00:02"})
        CHECK(jail->judge(host, at(time), at(time)).verdict == JailJudge::Verdict::counted);
    jail->lift_ban(banned);
    CHECK(jail->judge(host, at("10:00:03"), at("10:00:03")).verdict == JailJudge::Verdict::counted);
    CHECK(jail->judge(host, at("10:00:04"), at("10:00:04")).verdict == JailJudge::Verdict::counted);
    CHECK(jail->judge(host, at("10:00:05"), at("10:00:05")).verdict == JailJudge::Verdict::banned);
}

TEST_CASE("a jail says which addresses it never bans and what key a ban covers", "[pipeline]") {
    auto jail = exim_jail([](JailPolicy& policy) { policy.ipv6_prefix = 64; });
    CHECK(jail->ignores(*IpAddress::parse("127.0.0.1")));
    CHECK(jail->ignores(*IpAddress::parse("203.0.113.9")));
    CHECK_FALSE(jail->ignores(*IpAddress::parse("192.0.2.7")));
    CHECK(jail->key_of(*IpAddress::parse("2001:db8::1")).to_string() == "2001:db8::/64");
    CHECK(jail->key_of(*IpAddress::parse("192.0.2.7")).is_single_address());
    CHECK_FALSE(jail->would_cover_ignored(jail->key_of(*IpAddress::parse("192.0.2.7"))));
    CHECK(jail->policy().maxretry == 3);
}
