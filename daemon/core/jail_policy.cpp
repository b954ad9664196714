#include "core/jail_policy.hpp"

#include <algorithm>
#include <cmath>

namespace exim_ban {

const char* ban_reason_name(BanReason reason) {
    switch (reason) {
    case BanReason::maxretry:
        return "maxretry";
    case BanReason::recidive:
        return "recidive";
    case BanReason::knock:
        return "knock";
    }
    return "maxretry";
}

BanLength ban_length(const JailPolicy& policy, unsigned earlier_bans, std::uint64_t lifetime_hits) {
    double seconds = static_cast<double>(policy.bantime.count());
    if (policy.increment) {
        // Computed in floating point and capped before converting back, so a
        // key banned a hundred times cannot overflow.
        seconds *= std::pow(policy.factor, static_cast<double>(earlier_bans));
        seconds = std::min(seconds,
                           static_cast<double>(std::max(policy.maxtime, policy.bantime).count()));
    }
    BanLength length{std::chrono::seconds{static_cast<std::int64_t>(std::llround(seconds))},
                     BanReason::maxretry};
    if (policy.recidive_threshold > 0 && lifetime_hits > policy.recidive_threshold &&
        policy.recidive_bantime > length.duration)
        length = {policy.recidive_bantime, BanReason::recidive};
    return length;
}

} // namespace exim_ban
