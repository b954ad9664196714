// A ban key as the bytes of a set element: four for JAIL_v4 (ipv4_addr),
// sixteen for JAIL_v6 (ipv6_addr, the network masked to the jail's
// ipv6_prefix, because the rule masks the source address the same way
// before its lookup).
#pragma once

#include "core/ban_key.hpp"
#include "core/ip_address.hpp"

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace exim_ban {

struct ElementKey {
    IpAddress::Family family = IpAddress::Family::v4;
    std::array<std::uint8_t, 16> bytes{}; // network order; IPv4 uses the first 4

    std::size_t size() const { return family == IpAddress::Family::v4 ? 4 : 16; }
    std::span<const std::uint8_t> data() const { return {bytes.data(), size()}; }
    auto operator<=>(const ElementKey&) const = default;
};

// The element standing for `key` in a jail whose IPv6 bans cover
// /ipv6_prefix networks: an IPv6 address or a longer prefix is widened to
// it. Returns nullopt when no element can stand for the key: an IPv4
// network (the sets hold single addresses, no intervals) or an IPv6 network
// wider than /ipv6_prefix.
std::optional<ElementKey> element_key(const BanKey& key, int ipv6_prefix);

// Why element_key() returned nullopt, for the failure report.
std::string element_key_problem(const BanKey& key, int ipv6_prefix);

// The ban key an element of such a jail stands for. Returns nullopt when
// `bytes` is not 4 or 16 bytes long.
std::optional<BanKey> ban_key_of_element(std::span<const std::uint8_t> bytes, int ipv6_prefix);

// The IPv6 netmask of a prefix length (clamped to 0..128).
std::array<std::uint8_t, 16> ipv6_mask(int prefix_length);

// "ffff:ffff:ffff:ffff::" for 64.
std::string ipv6_mask_text(int prefix_length);

// The prefix length of a netmask of leading one bits, or nullopt when the
// mask has a one after a zero.
std::optional<int> mask_prefix_length(std::span<const std::uint8_t> mask);

} // namespace exim_ban
