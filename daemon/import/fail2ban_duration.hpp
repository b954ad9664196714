// Durations as fail2ban's jail files write them (MyTime.str2seconds):
// "600", "10m", "1h 30m", "1d12h", "2 weeks", "6mo", "1y", and "-1" for a
// permanent bantime. fail2ban evaluates the text as a Python expression;
// exim-ban reads the sums of terms that admins write and nothing else.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace exim_ban {

struct Fail2banDuration {
    std::chrono::seconds seconds{0};
    bool negative = false; // "-1": a permanent bantime, "forever"
};

// Terms "NUMBER[UNIT]", optionally separated by blanks or '+'; a leading '-'
// makes the whole negative. Units as fail2ban spells them, any case: s, sec,
// second(s); m, mm, min, minute(s); h, hh, hour(s); d, dd, day(s); w, ww,
// week(s); mo, mon, month(s) (a year / 12); y, yy, year(s) (365.25 days).
// Fractions are allowed ("1.5h") and rounded to the second. Returns nullopt
// for anything else: other arithmetic, unknown units, an empty text.
std::optional<Fail2banDuration> parse_fail2ban_duration(std::string_view text);

} // namespace exim_ban
