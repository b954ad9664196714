// fail2ban's bans as exim-ban's: the pure half of `exim-banctl
// import-fail2ban` for the database. fail2ban keeps, per jail, `bips` (each
// address's latest ban and how many it has had, bancount) and `bans` (every
// ban, purged after its dbpurgeage). exim-ban keeps one row per ban and
// counts a key's rows to escalate: a current ban becomes an active row, the
// earlier ones rows that have ended, so that bantime.increment goes on where
// fail2ban was.
#pragma once

#include "config/config.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace exim_ban {

// A row of fail2ban's bips or bans table.
struct Fail2banBanRow {
    std::string ip;
    std::int64_t timeofban = 0; // epoch seconds
    std::int64_t bantime = 0;   // seconds; negative: permanent
    std::int64_t bancount = 1;  // this ban's number for the address (1: its first)
};

struct BanImport {
    Batch batch; // the bans to commit, origin "import", reason "fail2ban"
    std::size_t current_v4 = 0;
    std::size_t current_v6 = 0;
    std::size_t history = 0; // rows of earlier bans
    // fail2ban addresses that give no current ban, by reason: "expired",
    // "loopback", "ignored", "not an address", "same /64" (merged into
    // another address's ban of its network), "already imported", "already
    // banned" (exim-ban has an active ban of the key).
    std::map<std::string, std::size_t> skipped;
    std::size_t skipped_total() const;
};

// exim-ban's bans of a key (Store::bans_of), to import nothing twice.
using StoredBansOf = std::function<std::vector<StoredBan>(const BanKey&)>;

// `current`: the jail's bips rows (expired ones too: they are history);
// `history`: its bans rows. `jail` is the exim-ban jail they go to, as it
// loads with the import's settings: its ipv6_prefix makes the keys, its
// ignore list and loopback are skipped, and its bantime.maxtime is what a
// permanent ban lasts from `now`. A key's rows already imported (same jail,
// start and origin "import") are not added again.
BanImport map_fail2ban_bans(const std::vector<Fail2banBanRow>& current,
                            const std::vector<Fail2banBanRow>& history, const JailConfig& jail,
                            std::int64_t now, const StoredBansOf& stored);

} // namespace exim_ban
