// An IPv4 or IPv6 address as exim-ban keys, compares and prints it.
// IPv4-mapped IPv6 (::ffff:a.b.c.d) is the IPv4 address it maps: Exim logs a
// dual-stack client either way and both must count as one host.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace exim_ban {

class IpAddress {
  public:
    enum class Family : std::uint8_t { v4, v6 };
    using Bytes = std::array<std::uint8_t, 16>;

    // Parses dotted-quad IPv4 (no leading zeros: "010.1.1.1" is ambiguous
    // and Exim never writes it) or textual IPv6 (RFC 4291, embedded IPv4
    // allowed, no zone id, no brackets). Returns nullopt for anything else,
    // including host names: exim-ban never resolves a name.
    static std::optional<IpAddress> parse(std::string_view text);

    static IpAddress from_v4(std::uint32_t host_order);
    // Network-order bytes; an IPv4-mapped address becomes IPv4.
    static IpAddress from_v6(const Bytes& bytes);

    Family family() const { return family_; }
    bool is_v4() const { return family_ == Family::v4; }
    int bit_length() const { return is_v4() ? 32 : 128; }
    // Network-order bytes; for IPv4 only the first four are used.
    const Bytes& bytes() const { return bytes_; }
    std::uint32_t v4_value() const;

    // The address with all bits after the first `prefix_length` cleared;
    // prefix_length is clamped to the family's bit length.
    IpAddress masked(int prefix_length) const;
    bool is_loopback() const;

    // Canonical text: dotted quad, or RFC 5952 for IPv6 (lower case, no
    // leading zeros, the longest run of two or more zero groups as "::").
    std::string to_string() const;

    auto operator<=>(const IpAddress&) const = default;

  private:
    Family family_ = Family::v4;
    Bytes bytes_{};
};

struct IpAddressHash {
    std::size_t operator()(const IpAddress& address) const noexcept;
};

} // namespace exim_ban
