#include "firewall/table_check.hpp"

#include <algorithm>
#include <iterator>
#include <linux/netfilter/nf_tables.h>

namespace exim_ban {
namespace {

// nft's datatype numbers, which `nft list` uses to print elements.
constexpr std::uint32_t nft_type_ipv4_addr = 7;
constexpr std::uint32_t nft_type_ipv6_addr = 8;
constexpr std::uint32_t nf_inet_local_in = 1;

std::string type_name(std::uint32_t type) {
    switch (type) {
    case nft_type_ipv4_addr:
        return "ipv4_addr";
    case nft_type_ipv6_addr:
        return "ipv6_addr";
    default:
        return "datatype " + std::to_string(type);
    }
}

std::string hook_name(std::uint32_t hook) {
    static constexpr const char* names[] = {"prerouting", "input",       "forward",
                                            "output",     "postrouting", "ingress"};
    return hook < std::size(names) ? names[hook] : std::to_string(hook);
}

std::string flags_text(std::uint32_t flags) {
    static constexpr std::pair<std::uint32_t, const char*> names[] = {
        {NFT_SET_ANONYMOUS, "anonymous"}, {NFT_SET_CONSTANT, "constant"},
        {NFT_SET_INTERVAL, "interval"},   {NFT_SET_MAP, "map"},
        {NFT_SET_TIMEOUT, "timeout"},     {NFT_SET_EVAL, "dynamic"},
        {NFT_SET_OBJECT, "object"},       {NFT_SET_CONCAT, "concatenation"},
    };
    std::string text;
    for (const auto& [bit, name] : names) {
        if ((flags & bit) != 0)
            text += std::string(text.empty() ? "" : ",") + name;
    }
    return text.empty() ? "none" : text;
}

// Empty when `set` is what exim-ban makes for the family, else what differs.
std::string set_difference(const SetSnapshot& set, IpAddress::Family family) {
    std::vector<std::string> differences;
    if (set.key_type != jail_set_key_type(family) || set.key_length != jail_set_key_length(family))
        differences.push_back("type " + type_name(set.key_type) + " instead of " +
                              type_name(jail_set_key_type(family)));
    if (set.flags != jail_set_flags())
        differences.push_back("flags " + flags_text(set.flags) + " instead of timeout");
    if (set.expressions != std::vector<std::string>{"counter"})
        differences.push_back("per-element expressions other than one counter");
    if (set.default_timeout_ms != 0)
        differences.push_back("a default timeout");
    std::string text;
    for (const auto& difference : differences)
        text += (text.empty() ? "" : ", ") + difference;
    return text;
}

} // namespace

std::uint32_t jail_set_flags() {
    return NFT_SET_TIMEOUT;
}

std::uint32_t jail_set_key_type(IpAddress::Family family) {
    return family == IpAddress::Family::v4 ? nft_type_ipv4_addr : nft_type_ipv6_addr;
}

std::uint32_t jail_set_key_length(IpAddress::Family family) {
    return family == IpAddress::Family::v4 ? 4 : 16;
}

TableCheck check_table(const TableSnapshot& table, const std::vector<FirewallJail>& jails) {
    TableCheck check;
    if (!table.exists)
        return check;
    const std::string table_text = "table inet " + std::string(firewall_table_name);
    if (table.owner)
        check.in_the_way.push_back(table_text + " is owned by another process (netlink port " +
                                   std::to_string(*table.owner) + ")");

    const auto is_jail = [&](const std::string& name) {
        return std::any_of(jails.begin(), jails.end(),
                           [&](const FirewallJail& jail) { return jail.name == name; });
    };
    for (const auto& set : table.sets) {
        if ((set.flags & NFT_SET_ANONYMOUS) != 0)
            continue; // a rule's own set, e.g. the ports of our rules
        const auto jail_set = parse_jail_set_name(set.name);
        if (jail_set && is_jail(jail_set->jail)) {
            const std::string difference = set_difference(set, jail_set->family);
            if (!difference.empty()) {
                std::string problem = "set " + set.name;
                problem.append(" in ").append(table_text).append(" has ").append(difference);
                check.in_the_way.push_back(std::move(problem));
            }
        } else if (jail_set && set.comment == jail_set_comment(jail_set->jail)) {
            check.stale_sets.push_back(set.name);
        } else {
            check.left_alone.push_back("set " + set.name);
        }
    }
    for (const auto& chain : table.chains) {
        if (chain.name != firewall_chain_name) {
            check.left_alone.push_back("chain " + chain.name);
            continue;
        }
        if (!chain.base || chain.hook != nf_inet_local_in ||
            chain.priority != firewall_chain_priority || chain.type != "filter")
            check.in_the_way.push_back(
                "chain " + chain.name + " in " + table_text + " is " +
                (chain.base ? "a " + chain.type + " chain with hook " + hook_name(chain.hook) +
                                  " and priority " + std::to_string(chain.priority)
                            : std::string("a regular chain")) +
                ", not exim-ban's (type filter hook input priority filter - 10)");
    }
    return check;
}

} // namespace exim_ban
