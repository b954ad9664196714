// The key that hits are counted and bans are made under: an IPv4 address, or
// the IPv6 network of `ipv6_prefix` bits around an IPv6 address, because one
// IPv6 attacker owns a whole /64 and would otherwise rotate through it.
#pragma once

#include "core/ip_address.hpp"
#include "core/ip_prefix.hpp"

namespace exim_ban {

using BanKey = IpPrefix;

inline constexpr int default_ipv6_prefix = 64;

inline BanKey ban_key(const IpAddress& host, int ipv6_prefix) {
    return host.is_v4() ? IpPrefix(host) : IpPrefix(host, ipv6_prefix);
}

} // namespace exim_ban
