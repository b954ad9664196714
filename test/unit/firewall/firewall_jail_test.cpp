#include "firewall/firewall_jail.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

TEST_CASE("jails that cannot be enforced together are named", "[firewall][jail]") {
    CHECK_FALSE(jails_problem(
        {{"exim", {25, 465, 587}, Verdict::drop, 64}, {"spam", {}, Verdict::reject, 48}}));
    CHECK(jails_problem({{"Exim", {}, Verdict::drop, 64}})->find("[a-z][a-z0-9_]{0,23}") !=
          std::string::npos);
    CHECK(jails_problem({{"exim", {}, Verdict::drop, 64}, {"exim", {}, Verdict::drop, 64}})
              ->find("twice") != std::string::npos);
    CHECK(jails_problem({{"exim", {25, 0}, Verdict::drop, 64}})->find("port 0") !=
          std::string::npos);
    CHECK(jails_problem({{"exim", {}, Verdict::drop, 0}})->find("ipv6_prefix 0") !=
          std::string::npos);
    CHECK(jails_problem({{"exim", {}, Verdict::drop, 129}}));
}

TEST_CASE("set names carry the jail and the family", "[firewall][jail]") {
    CHECK(jail_set_name("exim", IpAddress::Family::v4) == "exim_v4");
    CHECK(jail_set_name("exim", IpAddress::Family::v6) == "exim_v6");
    const auto parsed = parse_jail_set_name("exim_spam_v6");
    REQUIRE(parsed);
    CHECK(parsed->jail == "exim_spam");
    CHECK(parsed->family == IpAddress::Family::v6);
    for (const char* other : {"exim", "exim_v5", "_v4", "__set0", "Exim_v4", "exim-v4"}) {
        INFO(other);
        CHECK_FALSE(parse_jail_set_name(other));
    }
    CHECK(jail_set_comment("exim") == "exim-ban jail exim");
}

TEST_CASE("rule texts are what nft list prints for the rules exim-ban makes", "[firewall][jail]") {
    CHECK(jail_rule_texts({"exim", {587, 25, 465, 25}, Verdict::drop, 64}) ==
          std::vector<std::string>{
              "tcp dport { 25, 465, 587 } ip saddr @exim_v4 drop",
              "tcp dport { 25, 465, 587 } ip6 saddr & ffff:ffff:ffff:ffff:: == @exim_v6 drop"});
    CHECK(jail_rule_texts({"sub", {587}, Verdict::reject, 128}) ==
          std::vector<std::string>{"tcp dport 587 ip saddr @sub_v4 reject with tcp reset",
                                   "tcp dport 587 ip6 saddr @sub_v6 reject with tcp reset"});
    CHECK(jail_rule_texts({"all", {}, Verdict::drop, 48}) ==
          std::vector<std::string>{"ip saddr @all_v4 drop",
                                   "ip6 saddr & ffff:ffff:ffff:: == @all_v6 drop"});
    CHECK(
        jail_rule_texts({"spam", {}, Verdict::reject, 56}) ==
        std::vector<std::string>{
            "meta l4proto tcp ip saddr @spam_v4 reject with tcp reset", "ip saddr @spam_v4 reject",
            "meta l4proto tcp ip6 saddr & ffff:ffff:ffff:ff00:: == @spam_v6 reject with tcp reset",
            "ip6 saddr & ffff:ffff:ffff:ff00:: == @spam_v6 reject"});
}
