// A jail's judgement, as numbers: how many hits in how long make a ban, and
// how long a ban lasts for a first offender, a repeat offender and a
// recidivist. Filled from exim-ban.conf; used by the HitTracker.
#pragma once

#include <chrono>
#include <cstdint>

namespace exim_ban {

struct JailPolicy {
    unsigned maxretry = 5;
    std::chrono::seconds findtime{600};
    std::chrono::seconds bantime{3600};
    bool increment = true;
    double factor = 2.0;
    std::chrono::seconds maxtime{5 * 7 * 86400};
    std::uint64_t recidive_threshold = 50; // 0: never
    std::chrono::seconds recidive_bantime{4 * 7 * 86400};
    int ipv6_prefix = 64;
    // A ban whose firewall element blocked packets is renewed, with the
    // next escalated time, when it is about to end.
    bool knock_extend = false;
    // Trust from good logins (see trust_book.hpp): how long a login trusts
    // its account from its key (0: off), and how many of that account's
    // failures within findtime are excused.
    std::chrono::seconds trust_time{30 * 86400};
    unsigned trust_maxretry = 20;
};

// knock: renewed because the banned host kept knocking at the firewall.
enum class BanReason { maxretry, recidive, knock };

// The reason as the store and the logs spell it.
const char* ban_reason_name(BanReason reason);

struct BanLength {
    std::chrono::seconds duration;
    BanReason reason;
};

// How long the next ban of a key lasts: bantime, times factor for each
// earlier ban when `increment` is on, capped at maxtime; and at least
// recidive_bantime once the key's lifetime hits pass recidive_threshold.
BanLength ban_length(const JailPolicy& policy, unsigned earlier_bans, std::uint64_t lifetime_hits);

} // namespace exim_ban
