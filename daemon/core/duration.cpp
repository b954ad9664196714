#include "core/duration.hpp"

#include "core/text.hpp"

#include <array>
#include <cstdint>
#include <utility>

namespace exim_ban {
namespace {

constexpr std::int64_t max_seconds = std::int64_t{1} << 33; // ~272 years

struct Unit {
    std::string_view name;
    std::int64_t seconds;
};

// Longer names first so that "min" is not read as "m" followed by "in".
constexpr std::array<Unit, 20> units{{
    {"seconds", 1},  {"second", 1},     {"secs", 1},      {"sec", 1},      {"s", 1},
    {"minutes", 60}, {"minute", 60},    {"mins", 60},     {"min", 60},     {"m", 60},
    {"hours", 3600}, {"hour", 3600},    {"h", 3600},      {"days", 86400}, {"day", 86400},
    {"d", 86400},    {"weeks", 604800}, {"week", 604800}, {"w", 604800},   {"", 1},
}};

bool is_space(char c) {
    return c == ' ' || c == '\t';
}

} // namespace

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
    std::size_t pos = 0;
    std::int64_t total = 0;
    int parts = 0;
    bool last_was_bare = false;
    while (true) {
        while (pos < text.size() && is_space(text[pos]))
            ++pos;
        if (pos == text.size())
            break;
        if (last_was_bare)
            return std::nullopt; // "10 5": a bare number must stand alone
        std::int64_t number = 0;
        const std::size_t start = pos;
        while (pos < text.size() && is_digit(text[pos])) {
            number = number * 10 + (text[pos++] - '0');
            if (number > max_seconds)
                return std::nullopt;
        }
        if (pos == start)
            return std::nullopt;
        while (pos < text.size() && is_space(text[pos]))
            ++pos;
        std::size_t end = pos;
        while (end < text.size() && is_letter(text[end]))
            ++end;
        const std::string_view word = text.substr(pos, end - pos);
        const Unit* unit = nullptr;
        for (const auto& candidate : units) {
            if (candidate.name == word) {
                unit = &candidate;
                break;
            }
        }
        if (unit == nullptr)
            return std::nullopt;
        last_was_bare = word.empty();
        if (last_was_bare && parts > 0)
            return std::nullopt; // "1h 30" is ambiguous
        total += number * unit->seconds;
        if (total > max_seconds)
            return std::nullopt;
        pos = end;
        ++parts;
    }
    if (parts == 0)
        return std::nullopt;
    return std::chrono::seconds{total};
}

std::string format_duration(std::chrono::seconds duration) {
    std::int64_t left = duration.count();
    if (left <= 0)
        return "0s";
    constexpr std::array<std::pair<std::int64_t, char>, 5> steps{
        {{604800, 'w'}, {86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}}};
    std::string text;
    for (const auto& [seconds, letter] : steps) {
        if (left >= seconds) {
            text += std::to_string(left / seconds);
            text += letter;
            left %= seconds;
        }
    }
    return text;
}

} // namespace exim_ban
