#include "core/log_dates.hpp"

namespace exim_ban {

std::optional<LogTime> LogDates::placed(const YearlessTime& time) {
    if (!now_seen_ || time.month != now_month_ || time.day != now_day_) {
        now_seen_ = now_();
        now_month_ = time.month;
        now_day_ = time.day;
    }
    const std::optional<std::int64_t> wall_seconds = years_.place(time, *now_seen_);
    if (!wall_seconds)
        return std::nullopt;
    return LogTime{*wall_seconds, 0, std::nullopt};
}

} // namespace exim_ban
