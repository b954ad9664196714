// The text of an rbldnsd data file listing the keys banned now. Pure: the
// caller passes the bans and the time.
#pragma once

#include "core/ban_key.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace exim_ban {

struct ZoneEntry {
    BanKey key;
    std::int64_t expires = 0; // seconds, log time
};

struct DnsblZone {
    std::string text;
    std::size_t ipv4 = 0; // keys listed
    std::size_t ipv6 = 0;
    // When the earliest listed ban ends and the text changes with it;
    // nullopt when nothing is listed.
    std::optional<std::int64_t> next_expiry;
};

// A `combined` dataset (rbldnsd -> zone:combined:PATH) with an `ip4set` and
// an `ip6trie` at the zone's apex, each key once (the longest ban of a key
// banned in several jails decides when it leaves), sorted, answering
// 127.0.0.2 and a TXT naming exim-ban. Entries that have ended by `now` are
// left out.
DnsblZone dnsbl_zone(const std::vector<ZoneEntry>& bans, std::int64_t now);

} // namespace exim_ban
