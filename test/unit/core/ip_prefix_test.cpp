#include "core/ban_key.hpp"
#include "core/ip_prefix.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

TEST_CASE("prefixes parse, mask host bits and print", "[prefix]") {
    CHECK(IpPrefix::parse("10.1.2.3/8")->to_string() == "10.0.0.0/8");
    CHECK(IpPrefix::parse("192.0.2.7")->to_string() == "192.0.2.7");
    CHECK(IpPrefix::parse("192.0.2.7/32")->to_string() == "192.0.2.7");
    CHECK(IpPrefix::parse("2001:db8:1:2:3::/64")->to_string() == "2001:db8:1:2::/64");
    CHECK(IpPrefix::parse("::ffff:10.0.0.0/104")->to_string() == "10.0.0.0/8");
    CHECK(IpPrefix::parse("0.0.0.0/0")->contains(*IpAddress::parse("203.0.113.9")));
    for (const char* bad :
         {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/08", "::/129", "::ffff:10.0.0.0/95",
          "10.0.0.0/8/8", "example.com/24", "10.0.0.0/ 8"}) {
        INFO(bad);
        CHECK_FALSE(IpPrefix::parse(bad));
    }
}

TEST_CASE("prefix membership respects the family", "[prefix]") {
    const auto net = *IpPrefix::parse("192.0.2.0/25");
    CHECK(net.contains(*IpAddress::parse("192.0.2.127")));
    CHECK_FALSE(net.contains(*IpAddress::parse("192.0.2.128")));
    CHECK(net.contains(*IpAddress::parse("::ffff:192.0.2.1")));
    CHECK_FALSE(IpPrefix::parse("::/0")->contains(*IpAddress::parse("192.0.2.1")));
}

TEST_CASE("ban keys: IPv4 exact, IPv6 by prefix", "[key]") {
    CHECK(ban_key(*IpAddress::parse("203.0.113.9"), 64).to_string() == "203.0.113.9");
    CHECK(ban_key(*IpAddress::parse("::ffff:203.0.113.9"), 64).to_string() == "203.0.113.9");
    CHECK(ban_key(*IpAddress::parse("2001:db8:1:2:aaaa::1"), 64).to_string() ==
          "2001:db8:1:2::/64");
    CHECK(ban_key(*IpAddress::parse("2001:db8:1:2:aaaa::1"), 64) ==
          ban_key(*IpAddress::parse("2001:db8:1:2:ffff::2"), 64));
    CHECK(ban_key(*IpAddress::parse("2001:db8:1:2:aaaa::1"), 128).to_string() ==
          "2001:db8:1:2:aaaa::1");
    CHECK(ban_key(*IpAddress::parse("2001:db8:1:2:aaaa::1"), 48).to_string() == "2001:db8:1::/48");
}
