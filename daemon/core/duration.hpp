// Durations as admins write them in exim-ban.conf: "3600", "15m", "1h",
// "4w", "1h30m", "2d 12h".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace exim_ban {

// Units: s, m, h, d, w (also their long forms: sec, min, hour, day, week,
// with an optional plural s). A bare number is seconds. Returns nullopt for
// an empty text, an unknown unit, a negative value or one past ~290 years.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// The shortest exact text in the same units: 3600s -> "1h", 5400s -> "1h30m".
std::string format_duration(std::chrono::seconds duration);

} // namespace exim_ban
