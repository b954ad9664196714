#include "core/year_picker.hpp"

#include "core/log_time.hpp"

#include <cstdlib>

namespace exim_ban {

std::optional<std::int64_t> YearPicker::place(const YearlessTime& time, std::int64_t now) {
    const std::int64_t reference = previous_ ? *previous_ : now;
    const std::int64_t latest = now + future_slack_seconds;
    const std::int64_t floor_days = reference / 86400 - (reference % 86400 < 0 ? 1 : 0);
    const std::int64_t year = civil_from_days(floor_days).year;
    const auto better = [&](std::int64_t candidate, const std::optional<std::int64_t>& than) {
        if (!than)
            return true;
        if (!previous_)
            return candidate > *than;
        const std::int64_t mine = std::llabs(candidate - reference);
        const std::int64_t theirs = std::llabs(*than - reference);
        return mine < theirs || (mine == theirs && candidate > *than);
    };
    std::optional<std::int64_t> best;
    std::optional<std::int64_t> best_ahead; // the best one ignoring now
    for (std::int64_t candidate_year = year - 1; candidate_year <= year + 1; ++candidate_year) {
        if (!is_valid_date(candidate_year, time.month, time.day))
            continue;
        const std::int64_t candidate =
            days_from_civil(candidate_year, time.month, time.day) * 86400 + time.second_of_day;
        if (better(candidate, best_ahead))
            best_ahead = candidate;
        if (candidate <= latest && better(candidate, best))
            best = candidate;
    }
    // Every year puts the line ahead of now: the log follows a clock ahead of
    // this host's (its previous lines are ahead too); stay beside them.
    if (!best)
        best = best_ahead;
    if (best)
        previous_ = best;
    return best;
}

} // namespace exim_ban
