#include "export/dnsbl_zone.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

namespace {

ZoneEntry entry(const char* key, std::int64_t expires) {
    return ZoneEntry{*IpPrefix::parse(key), expires};
}

} // namespace

TEST_CASE("dnsbl zone: IPv4 in an ip4set, IPv6 networks in an ip6trie, each key once", "[dnsbl]") {
    const DnsblZone zone = dnsbl_zone(
        {entry("198.51.100.7", 2000), entry("2001:db8:1:2::/64", 1500), entry("192.0.2.1", 1200),
         entry("198.51.100.7", 1100), entry("2001:db8::5", 3000), entry("192.0.2.9", 1000)},
        1000);
    CHECK(zone.text ==
          "# exim-ban: the keys banned now; rewritten whole by exim-band, do not edit\n"
          "$DATASET ip4set:exim-ban @\n"
          ":127.0.0.2:Listed by exim-ban: authentication abuse from $\n"
          "192.0.2.1\n"
          "198.51.100.7\n"
          "$DATASET ip6trie:exim-ban @\n"
          ":127.0.0.2:Listed by exim-ban: authentication abuse from $\n"
          "2001:db8::5/128\n"
          "2001:db8:1:2::/64\n");
    CHECK(zone.ipv4 == 2);
    CHECK(zone.ipv6 == 2);
    // 192.0.2.9 has ended at 1000; the earliest still listed ends at 1200.
    CHECK(zone.next_expiry == 1200);
}

TEST_CASE("dnsbl zone: nothing banned is a valid empty zone", "[dnsbl]") {
    const DnsblZone zone = dnsbl_zone({entry("192.0.2.1", 10)}, 10);
    CHECK(zone.ipv4 == 0);
    CHECK(zone.ipv6 == 0);
    CHECK_FALSE(zone.next_expiry);
    CHECK(zone.text.find("$DATASET ip4set:exim-ban @\n") != std::string::npos);
    CHECK(zone.text.find("192.0.2.1") == std::string::npos);
}
