// Small text helpers shared by the parsers.
#pragma once

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

} // namespace exim_ban
