// Small text helpers shared by the parsers.
#pragma once

#include <cstddef>
#include <string_view>

namespace exim_ban {

inline bool is_blank(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

// The text without leading and trailing blanks (spaces, tabs, CR, FF, VT).
inline std::string_view trim(std::string_view text) {
    while (!text.empty() && is_blank(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_blank(text.back()))
        text.remove_suffix(1);
    return text;
}

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
