#include "import/fail2ban_duration.hpp"

#include "core/text.hpp"

#include <cmath>
#include <string>

namespace exim_ban {
namespace {

constexpr double day = 86400;
constexpr double year = (365 * 3 + 366) * day / 4;

struct Unit {
    std::string_view name;
    double seconds;
};

// fail2ban's abbreviations (mytime.py _str2sec_parts), spelled out: its
// regexes accept a unit's prefixes down to these.
constexpr Unit units[] = {
    {"s", 1},
    {"ss", 1},
    {"se", 1},
    {"sec", 1},
    {"second", 1},
    {"seconds", 1},
    {"m", 60},
    {"mm", 60},
    {"mi", 60},
    {"min", 60},
    {"minute", 60},
    {"minutes", 60},
    {"h", 3600},
    {"hh", 3600},
    {"ho", 3600},
    {"hou", 3600},
    {"hour", 3600},
    {"hours", 3600},
    {"d", day},
    {"dd", day},
    {"da", day},
    {"day", day},
    {"days", day},
    {"w", 7 * day},
    {"ww", 7 * day},
    {"we", 7 * day},
    {"wee", 7 * day},
    {"week", 7 * day},
    {"weeks", 7 * day},
    {"mo", year / 12},
    {"mon", year / 12},
    {"month", year / 12},
    {"months", year / 12},
    {"y", year},
    {"yy", year},
    {"ye", year},
    {"yea", year},
    {"year", year},
    {"years", year},
};

std::optional<double> unit_seconds(const std::string& word) {
    if (word.empty())
        return 1;
    for (const Unit& unit : units) {
        if (unit.name == word)
            return unit.seconds;
    }
    return std::nullopt;
}

} // namespace

std::optional<Fail2banDuration> parse_fail2ban_duration(std::string_view text) {
    text = trim(text);
    Fail2banDuration result;
    if (text.starts_with('-')) {
        result.negative = true;
        text = trim(text.substr(1));
    }
    if (text.empty())
        return std::nullopt;
    double total = 0;
    std::size_t at = 0;
    while (at < text.size()) {
        while (at < text.size() && (is_blank(text[at]) || text[at] == '+'))
            ++at;
        if (at == text.size())
            break;
        const std::size_t start = at;
        while (at < text.size() && (is_digit(text[at]) || text[at] == '.'))
            ++at;
        if (at == start)
            return std::nullopt;
        double number = 0;
        try {
            std::size_t used = 0;
            number = std::stod(std::string(text.substr(start, at - start)), &used);
            if (used != at - start)
                return std::nullopt;
        } catch (const std::exception&) {
            return std::nullopt;
        }
        while (at < text.size() && is_blank(text[at]))
            ++at;
        std::string word;
        while (at < text.size() && is_letter(text[at]))
            word += lower(text[at++]);
        const std::optional<double> unit = unit_seconds(word);
        if (!unit)
            return std::nullopt;
        total += number * *unit;
    }
    // Past ~290 years the count would not fit exim-ban's durations.
    if (!std::isfinite(total) || total > 9e9)
        return std::nullopt;
    result.seconds = std::chrono::seconds{static_cast<std::int64_t>(std::llround(total))};
    return result;
}

} // namespace exim_ban
