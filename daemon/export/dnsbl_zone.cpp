#include "export/dnsbl_zone.hpp"

#include <algorithm>
#include <map>

namespace exim_ban {
namespace {

// rbldnsd substitutes the queried address for '$'.
constexpr const char* listed_value = ":127.0.0.2:Listed by exim-ban: authentication abuse from $";

} // namespace

DnsblZone dnsbl_zone(const std::vector<ZoneEntry>& bans, std::int64_t now) {
    std::map<BanKey, std::int64_t> ends;
    for (const auto& ban : bans) {
        if (ban.expires <= now)
            continue;
        auto [entry, added] = ends.try_emplace(ban.key, ban.expires);
        if (!added)
            entry->second = std::max(entry->second, ban.expires);
    }
    DnsblZone zone;
    std::string ipv4;
    std::string ipv6;
    for (const auto& [key, expires] : ends) {
        if (key.network().is_v4()) {
            ipv4 += key.to_string() + '\n';
            ++zone.ipv4;
        } else {
            // ip6trie wants a prefix length even for a single address.
            ipv6 += key.network().to_string() + '/' + std::to_string(key.length()) + '\n';
            ++zone.ipv6;
        }
        zone.next_expiry = std::min(zone.next_expiry.value_or(expires), expires);
    }
    zone.text = "# exim-ban: the keys banned now; rewritten whole by exim-band, do not edit\n"
                "$DATASET ip4set:exim-ban @\n" +
                std::string(listed_value) + '\n' + ipv4 + "$DATASET ip6trie:exim-ban @\n" +
                listed_value + '\n' + ipv6;
    return zone;
}

} // namespace exim_ban
