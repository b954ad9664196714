#include "firewall/firewall_jail.hpp"

#include "core/jail_name.hpp"
#include "firewall/element_key.hpp"

#include <algorithm>
#include <set>

namespace exim_ban {
namespace {

std::string family_suffix(IpAddress::Family family) {
    return family == IpAddress::Family::v4 ? "_v4" : "_v6";
}

std::string ports_text(const std::vector<std::uint16_t>& ports) {
    if (ports.size() == 1)
        return std::to_string(ports.front());
    std::string text = "{ ";
    for (std::size_t i = 0; i < ports.size(); ++i) {
        if (i > 0)
            text += ", ";
        text += std::to_string(ports[i]);
    }
    return text + " }";
}

} // namespace

std::optional<std::string> jails_problem(const std::vector<FirewallJail>& jails) {
    std::set<std::string_view> seen;
    for (const auto& jail : jails) {
        if (!is_jail_name(jail.name))
            return "jail name '" + jail.name +
                   "' is not usable in nftables: it must match [a-z][a-z0-9_]{0,23}";
        if (!seen.insert(jail.name).second)
            return "jail '" + jail.name + "' is described twice";
        if (std::find(jail.ports.begin(), jail.ports.end(), 0) != jail.ports.end())
            return "jail '" + jail.name + "': port 0 cannot be blocked; list ports 1-65535";
        if (jail.ipv6_prefix < 1 || jail.ipv6_prefix > 128)
            return "jail '" + jail.name + "': ipv6_prefix " + std::to_string(jail.ipv6_prefix) +
                   " is outside 1..128";
    }
    return std::nullopt;
}

std::string jail_set_name(std::string_view jail, IpAddress::Family family) {
    return std::string(jail) + family_suffix(family);
}

std::optional<JailSet> parse_jail_set_name(std::string_view set_name) {
    if (set_name.size() < 4)
        return std::nullopt;
    const std::string_view suffix = set_name.substr(set_name.size() - 3);
    const std::string_view jail = set_name.substr(0, set_name.size() - 3);
    if (!is_jail_name(jail))
        return std::nullopt;
    if (suffix == "_v4")
        return JailSet{std::string(jail), IpAddress::Family::v4};
    if (suffix == "_v6")
        return JailSet{std::string(jail), IpAddress::Family::v6};
    return std::nullopt;
}

std::string jail_set_comment(std::string_view jail) {
    return "exim-ban jail " + std::string(jail);
}

std::vector<std::string> jail_rule_texts(const FirewallJail& jail) {
    std::vector<std::uint16_t> ports = jail.ports;
    std::sort(ports.begin(), ports.end());
    ports.erase(std::unique(ports.begin(), ports.end()), ports.end());

    const std::string v4 = "ip saddr @" + jail_set_name(jail.name, IpAddress::Family::v4);
    std::string v6 = "ip6 saddr @" + jail_set_name(jail.name, IpAddress::Family::v6);
    if (jail.ipv6_prefix < 128)
        v6 = "ip6 saddr & " + ipv6_mask_text(jail.ipv6_prefix) + " == @" +
             jail_set_name(jail.name, IpAddress::Family::v6);

    std::vector<std::string> rules;
    for (const std::string& match : {v4, v6}) {
        if (!ports.empty()) {
            const std::string verdict =
                jail.verdict == Verdict::drop ? "drop" : "reject with tcp reset";
            std::string rule = "tcp dport " + ports_text(ports);
            rule.append(" ").append(match).append(" ").append(verdict);
            rules.push_back(std::move(rule));
        } else if (jail.verdict == Verdict::drop) {
            rules.push_back(match + " drop");
        } else {
            rules.push_back("meta l4proto tcp " + match + " reject with tcp reset");
            rules.push_back(match + " reject"); // icmpx port-unreachable, nft's default
        }
    }
    return rules;
}

} // namespace exim_ban
