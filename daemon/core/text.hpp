// Small text helpers shared by the parsers of exim-ban.conf, filter files
// and fail2ban's jail files. ASCII only: those files spell their keywords in
// ASCII, and the locale must not change what parses.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exim_ban {

inline bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

inline bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// An ASCII small letter.
inline bool is_lower(char c) {
    return c >= 'a' && c <= 'z';
}

// An ASCII capital.
inline bool is_upper(char c) {
    return c >= 'A' && c <= 'Z';
}

// An ASCII letter, either case.
inline bool is_letter(char c) {
    return is_lower(c) || is_upper(c);
}

// `c` in lower case if it is an ASCII capital, else `c`.
inline char lower(char c) {
    return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
}

// The text with its ASCII capitals in lower case.
std::string lower(std::string_view text);

// The text without leading and trailing blanks (spaces, tabs, CR, FF, VT).
inline std::string_view trim(std::string_view text) {
    while (!text.empty() && is_blank(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_blank(text.back()))
        text.remove_suffix(1);
    return text;
}

// Python ConfigParser's booleans, in any case: 1, yes, true, on and 0, no,
// false, off. Returns nullopt for any other text (blanks around it included:
// trim first where they may stand).
std::optional<bool> parse_bool(std::string_view text);

// The words of a list separated by blanks (space, tab), commas and newlines,
// in order, without empty ones; as fail2ban's splitwords() reads its lists.
std::vector<std::string> split_words(std::string_view text);

// Calls visit(line, number) for each line of `text` (without its '\n';
// numbers from 1), as the file parsers report positions.
template <class Visit>
void for_each_line(std::string_view text, Visit&& visit) {
    int number = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos)
            end = text.size();
        visit(text.substr(start, end - start), ++number);
        start = end + 1;
    }
}

} // namespace exim_ban
