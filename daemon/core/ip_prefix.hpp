// A network: an address with a prefix length, as written in ignoreip lists,
// Exim host-list files and IPv6 ban keys ("2001:db8:1:2::/64").
#pragma once

#include "core/ip_address.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace exim_ban {

class IpPrefix {
  public:
    // The network of `address` with the given length (clamped to the
    // family's bit length); host bits are cleared.
    IpPrefix(const IpAddress& address, int length);
    explicit IpPrefix(const IpAddress& address)
        : IpPrefix(address, address.bit_length()) {}

    // "a.b.c.d", "a.b.c.d/n", "x:y::z", "x:y::/n"; host bits after the
    // length are cleared, as Exim does. "::ffff:a.b.c.d/n" (n >= 96) is the
    // IPv4 network /n-96. Returns nullopt for anything else.
    static std::optional<IpPrefix> parse(std::string_view text);

    const IpAddress& network() const { return network_; }
    int length() const { return length_; }
    bool is_single_address() const { return length_ == network_.bit_length(); }
    bool contains(const IpAddress& address) const;

    // "a.b.c.d" or "2001:db8::1" for a single address, else "network/length".
    std::string to_string() const;

    auto operator<=>(const IpPrefix&) const = default;

  private:
    IpAddress network_;
    int length_;
};

struct IpPrefixHash {
    std::size_t operator()(const IpPrefix& prefix) const noexcept;
};

} // namespace exim_ban
