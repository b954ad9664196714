// When a log line says it happened. Exim writes local wall-clock time unless
// log_timezone adds an offset, so the time is kept as read; turning it into
// an instant needs the host's time zone, which only the caller has.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace exim_ban {

struct LogTime {
    // Seconds from 1970-01-01 00:00:00 to the wall-clock reading, as if it
    // were UTC.
    std::int64_t wall_seconds = 0;
    std::int32_t milliseconds = 0;
    // Seconds east of UTC, when the line carries "+hhmm"/"-hhmm".
    std::optional<std::int32_t> utc_offset;

    // The instant, when the line said its offset.
    std::optional<std::int64_t> utc_seconds() const {
        if (!utc_offset)
            return std::nullopt;
        return wall_seconds - *utc_offset;
    }
    // "2013-01-04T17:03:46", the form fail2ban's test annotations use.
    std::string iso() const;

    bool operator==(const LogTime&) const = default;
};

struct CivilDate {
    std::int64_t year;
    unsigned month;
    unsigned day;
};

// Days from 1970-01-01 to the given proleptic Gregorian date, and back.
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);
CivilDate civil_from_days(std::int64_t days);
bool is_valid_date(std::int64_t year, unsigned month, unsigned day);

} // namespace exim_ban
