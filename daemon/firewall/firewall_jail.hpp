// A jail as the firewall enforces it: which packets a ban blocks, and how.
// The names of its objects in table inet exim_ban derive from the jail name.
#pragma once

#include "core/ban_key.hpp"
#include "core/ip_address.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exim_ban {

enum class Verdict : std::uint8_t { drop, reject };

struct FirewallJail {
    std::string name;                 // [a-z][a-z0-9_]{0,23}
    std::vector<std::uint16_t> ports; // TCP destination ports; empty: all traffic
    Verdict verdict = Verdict::drop;
    int ipv6_prefix = default_ipv6_prefix; // 1..128: an IPv6 ban covers this network
};

inline constexpr std::string_view firewall_table_name = "exim_ban"; // family inet
inline constexpr std::string_view firewall_chain_name = "input";
inline constexpr int firewall_chain_priority = -10; // filter - 10

// Why the jails cannot be enforced together (a bad name, a port of 0, an
// IPv6 prefix outside 1..128, a name used twice), or nullopt when they can.
std::optional<std::string> jails_problem(const std::vector<FirewallJail>& jails);

// "exim" -> "exim_v4" / "exim_v6".
std::string jail_set_name(std::string_view jail, IpAddress::Family family);

struct JailSet {
    std::string jail;
    IpAddress::Family family;
};
// The jail and family of a set named like jail_set_name's results, or
// nullopt for any other name.
std::optional<JailSet> parse_jail_set_name(std::string_view set_name);

// The comment exim-ban puts on a jail's sets; a set carrying it is exim-ban's.
std::string jail_set_comment(std::string_view jail);

// The jail's rules in nft syntax, as `nft list` prints them (for logs, the
// dry run and the documentation; the backend builds them over netlink).
std::vector<std::string> jail_rule_texts(const FirewallJail& jail);

} // namespace exim_ban
