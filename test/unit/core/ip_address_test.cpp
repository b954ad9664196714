#include "core/ip_address.hpp"

#include <catch2/catch.hpp>

using exim_ban::IpAddress;

namespace {
std::string canonical(std::string_view text) {
    auto address = IpAddress::parse(text);
    return address ? address->to_string() : "(invalid)";
}
} // namespace

TEST_CASE("IPv4 addresses parse strictly", "[ip]") {
    CHECK(canonical("192.0.2.1") == "192.0.2.1");
    CHECK(canonical("0.0.0.0") == "0.0.0.0");
    CHECK(canonical("255.255.255.255") == "255.255.255.255");
    for (const char* bad :
         {"256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1..2.3", "1.2.3.4 ",
          " 1.2.3.4", "1.2.3.-4", "a.b.c.d", "", "1.2.3.4/24", "1234.1.1.1", "host.example"}) {
        INFO(bad);
        CHECK_FALSE(IpAddress::parse(bad));
    }
}

TEST_CASE("IPv6 addresses print in RFC 5952 form", "[ip]") {
    CHECK(canonical("2001:DB8:0:0:0:0:0:1") == "2001:db8::1");
    CHECK(canonical("2001:0db8:0000:0000:0001:0000:0000:0001") == "2001:db8::1:0:0:1");
    CHECK(canonical("2001:db8:0:1:1:1:1:1") == "2001:db8:0:1:1:1:1:1"); // a single zero group stays
    CHECK(canonical("2001:0:0:1:0:0:0:1") == "2001:0:0:1::1");          // the longest run wins
    CHECK(canonical("2001:db8:0:0:1:0:0:1") == "2001:db8::1:0:0:1");    // the first of equal runs
    CHECK(canonical("::") == "::");
    CHECK(canonical("::1") == "::1");
    CHECK(canonical("fe80::") == "fe80::");
    CHECK(canonical("1:2:3:4:5:6:7:8") == "1:2:3:4:5:6:7:8");
    CHECK(canonical("64:ff9b::192.0.2.33") == "64:ff9b::c000:221");
    for (const char* bad : {":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "1:2:3:4:5:6:7",
                            ":1::", "1::2:", "fe80::1%eth0", "[::1]", "::ffff:1.2.3", "g::1",
                            "1:2:3:4:5:6:7:1.2.3.4"}) {
        INFO(bad);
        CHECK_FALSE(IpAddress::parse(bad));
    }
}

TEST_CASE("IPv4-mapped IPv6 is the IPv4 address", "[ip]") {
    auto mapped = IpAddress::parse("::ffff:192.0.2.7");
    REQUIRE(mapped);
    CHECK(mapped->is_v4());
    CHECK(mapped->to_string() == "192.0.2.7");
    CHECK(*mapped == *IpAddress::parse("192.0.2.7"));
    CHECK(canonical("::FFFF:c000:0207") == "192.0.2.7");
}

TEST_CASE("masking and loopback", "[ip]") {
    CHECK(IpAddress::parse("2001:db8:1:2:3:4:5:6")->masked(64).to_string() == "2001:db8:1:2::");
    CHECK(IpAddress::parse("2001:db8:1:2:3:4:5:6")->masked(52).to_string() == "2001:db8:1::");
    CHECK(IpAddress::parse("192.0.2.200")->masked(25).to_string() == "192.0.2.128");
    CHECK(IpAddress::parse("192.0.2.200")->masked(99).to_string() == "192.0.2.200");
    CHECK(IpAddress::parse("127.8.9.10")->is_loopback());
    CHECK(IpAddress::parse("::1")->is_loopback());
    CHECK_FALSE(IpAddress::parse("::2")->is_loopback());
    CHECK_FALSE(IpAddress::parse("128.0.0.1")->is_loopback());
}
