#include "firewall/element_key.hpp"

#include <algorithm>
#include <bit>

namespace exim_ban {

std::optional<ElementKey> element_key(const BanKey& key, int ipv6_prefix) {
    const IpAddress& network = key.network();
    ElementKey element;
    element.family = network.family();
    if (network.is_v4()) {
        if (!key.is_single_address())
            return std::nullopt;
        std::copy_n(network.bytes().begin(), 4, element.bytes.begin());
        return element;
    }
    if (key.length() < ipv6_prefix)
        return std::nullopt;
    element.bytes = network.masked(ipv6_prefix).bytes();
    return element;
}

std::string element_key_problem(const BanKey& key, int ipv6_prefix) {
    if (key.network().is_v4())
        return "IPv4 network " + key.to_string() +
               " cannot be banned: the sets hold single addresses";
    return "IPv6 network " + key.to_string() + " is wider than the jail's ipv6_prefix /" +
           std::to_string(ipv6_prefix);
}

std::optional<BanKey> ban_key_of_element(std::span<const std::uint8_t> bytes, int ipv6_prefix) {
    if (bytes.size() == 4) {
        const std::uint32_t value = (std::uint32_t{bytes[0]} << 24) |
                                    (std::uint32_t{bytes[1]} << 16) |
                                    (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
        return BanKey(IpAddress::from_v4(value));
    }
    if (bytes.size() == 16) {
        IpAddress::Bytes address{};
        std::copy(bytes.begin(), bytes.end(), address.begin());
        // from_v6 turns ::ffff:a.b.c.d into IPv4; an element is never that,
        // but build the IPv6 network explicitly all the same.
        const IpAddress parsed = IpAddress::from_v6(address);
        if (parsed.is_v4())
            return std::nullopt;
        return BanKey(parsed, ipv6_prefix);
    }
    return std::nullopt;
}

std::array<std::uint8_t, 16> ipv6_mask(int prefix_length) {
    const int length = std::clamp(prefix_length, 0, 128);
    std::array<std::uint8_t, 16> mask{};
    for (int i = 0; i < 16; ++i) {
        const int bits = std::clamp(length - 8 * i, 0, 8);
        mask[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(0xff00 >> bits);
    }
    return mask;
}

std::string ipv6_mask_text(int prefix_length) {
    return IpAddress::from_v6(ipv6_mask(prefix_length)).to_string();
}

std::optional<int> mask_prefix_length(std::span<const std::uint8_t> mask) {
    int length = 0;
    bool ended = false;
    for (const std::uint8_t byte : mask) {
        const int ones = std::countl_one(byte);
        if (ended && byte != 0)
            return std::nullopt;
        if (static_cast<std::uint8_t>(byte << ones) != 0)
            return std::nullopt; // a one after a zero inside the byte
        length += ones;
        if (ones < 8)
            ended = true;
    }
    return length;
}

} // namespace exim_ban
