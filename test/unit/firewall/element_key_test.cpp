#include "firewall/element_key.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

namespace {

BanKey key(const char* text) {
    return *IpPrefix::parse(text);
}

} // namespace

TEST_CASE("an IPv4 key is its four address bytes", "[firewall][key]") {
    const auto element = element_key(key("203.0.113.9"), 64);
    REQUIRE(element);
    CHECK(element->family == IpAddress::Family::v4);
    CHECK(element->size() == 4);
    CHECK(std::vector<std::uint8_t>(element->data().begin(), element->data().end()) ==
          std::vector<std::uint8_t>{203, 0, 113, 9});
    CHECK(ban_key_of_element(element->data(), 64) == key("203.0.113.9"));
}

TEST_CASE("an IPv6 key is widened to the jail's prefix", "[firewall][key]") {
    const auto from_address = element_key(key("2001:db8:1:2:aaaa::1"), 64);
    const auto from_prefix = element_key(key("2001:db8:1:2::/64"), 64);
    const auto from_longer = element_key(key("2001:db8:1:2:ff00::/72"), 64);
    REQUIRE(from_address);
    CHECK(from_address == from_prefix);
    CHECK(from_address == from_longer);
    CHECK(from_address->size() == 16);
    CHECK(ban_key_of_element(from_address->data(), 64)->to_string() == "2001:db8:1:2::/64");
    CHECK(ban_key_of_element(element_key(key("2001:db8::1"), 128)->data(), 128)->to_string() ==
          "2001:db8::1");
}

TEST_CASE("keys no element can stand for are refused with a reason", "[firewall][key]") {
    CHECK_FALSE(element_key(key("10.0.0.0/24"), 64));
    CHECK(element_key_problem(key("10.0.0.0/24"), 64).find("single addresses") !=
          std::string::npos);
    CHECK_FALSE(element_key(key("2001:db8::/48"), 64));
    CHECK(element_key_problem(key("2001:db8::/48"), 64).find("wider than") != std::string::npos);
    CHECK_FALSE(ban_key_of_element(std::vector<std::uint8_t>(5, 0), 64));
}

TEST_CASE("IPv6 masks and their prefix lengths", "[firewall][key]") {
    CHECK(ipv6_mask_text(64) == "ffff:ffff:ffff:ffff::");
    CHECK(ipv6_mask_text(48) == "ffff:ffff:ffff::");
    CHECK(ipv6_mask_text(57) == "ffff:ffff:ffff:ff80::");
    CHECK(ipv6_mask_text(128) == "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    for (int length = 0; length <= 128; ++length) {
        INFO(length);
        const auto mask = ipv6_mask(length);
        CHECK(mask_prefix_length(mask) == length);
    }
    const std::array<std::uint8_t, 4> holes{0xff, 0x00, 0xff, 0x00};
    CHECK_FALSE(mask_prefix_length(holes));
    const std::array<std::uint8_t, 2> inner{0xf0, 0x0f};
    CHECK_FALSE(mask_prefix_length(inner));
    const std::array<std::uint8_t, 2> ragged{0xfe, 0x80};
    CHECK_FALSE(mask_prefix_length(ragged));
}
