#include "core/text.hpp"

#include <algorithm>

namespace exim_ban {

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) { return lower(c); });
    return out;
}

std::optional<bool> parse_bool(std::string_view text) {
    const std::string word = lower(text);
    if (word == "1" || word == "yes" || word == "true" || word == "on")
        return true;
    if (word == "0" || word == "no" || word == "false" || word == "off")
        return false;
    return std::nullopt;
}

std::vector<std::string> split_words(std::string_view text) {
    constexpr std::string_view separators = " \t\n,";
    std::vector<std::string> words;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t begin = text.find_first_not_of(separators, at);
        if (begin == std::string_view::npos)
            break;
        const std::size_t end = std::min(text.find_first_of(separators, begin), text.size());
        words.emplace_back(text.substr(begin, end - begin));
        at = end;
    }
    return words;
}

} // namespace exim_ban
