#include "core/cidr_set.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

namespace {
bool in(const CidrSet& set, const char* address) {
    return set.contains(*IpAddress::parse(address));
}
} // namespace

TEST_CASE("a CIDR set answers membership across lengths and families", "[cidr]") {
    CidrSet set;
    CHECK(set.empty());
    CHECK_FALSE(in(set, "127.0.0.1"));
    for (const char* text :
         {"127.0.0.0/8", "::1", "192.0.2.0/24", "198.51.100.7", "2001:db8:aa::/48"})
        set.add(*IpPrefix::parse(text));
    set.add(*IpPrefix::parse("192.0.2.99/24")); // the same network again
    CHECK(set.size() == 5);

    for (const char* inside : {"127.255.0.1", "::1", "::ffff:127.0.0.1", "192.0.2.255",
                               "198.51.100.7", "2001:db8:aa:ffff::9"}) {
        CAPTURE(inside);
        CHECK(in(set, inside));
    }
    for (const char* outside : {"198.51.100.8", "192.0.3.0", "::2", "2001:db8:ab::1"}) {
        CAPTURE(outside);
        CHECK_FALSE(in(set, outside));
    }
}

TEST_CASE("a large CIDR set stays exact", "[cidr]") {
    CidrSet set;
    for (unsigned i = 0; i < 10000; ++i)
        set.add(IpPrefix(IpAddress::from_v4(0x0a000000u + i * 4), 30));
    CHECK(set.size() == 10000);
    CHECK(set.contains(IpAddress::from_v4(0x0a000000u + 39999)));
    CHECK_FALSE(set.contains(IpAddress::from_v4(0x0a000000u + 40000)));
}

TEST_CASE("overlap: a ban key must not cover an ignored address", "[cidr]") {
    CidrSet ignore;
    ignore.add(*IpPrefix::parse("2001:db8:1:2::5"));
    ignore.add(*IpPrefix::parse("192.0.2.0/24"));
    CHECK(ignore.overlaps(*IpPrefix::parse("2001:db8:1:2::/64")));
    CHECK(ignore.overlaps(*IpPrefix::parse("2001:db8::/32")));
    CHECK_FALSE(ignore.overlaps(*IpPrefix::parse("2001:db8:1:3::/64")));
    CHECK(ignore.overlaps(*IpPrefix::parse("192.0.2.77")));
    CHECK(ignore.overlaps(*IpPrefix::parse("192.0.0.0/16")));
    CHECK_FALSE(ignore.overlaps(*IpPrefix::parse("192.0.3.1")));
}
