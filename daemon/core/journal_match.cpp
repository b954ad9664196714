#include "core/journal_match.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace exim_ban {
namespace {

// journald's rule for a field name: capitals, digits and '_', not starting
// with a digit, at most 64 bytes. A name it would refuse can match nothing.
bool is_field_name(std::string_view name) {
    return !name.empty() && name.size() <= 64 && !is_digit(name.front()) &&
           std::all_of(name.begin(), name.end(),
                       [](char c) { return is_upper(c) || is_digit(c) || c == '_'; });
}

// Blanks only, not split_words' commas: a value may hold a comma.
std::vector<std::string_view> blank_separated(std::string_view text) {
    std::vector<std::string_view> words;
    std::size_t at = 0;
    while (at < text.size()) {
        if (is_blank(text[at]) || text[at] == '\n') {
            ++at;
            continue;
        }
        std::size_t end = at;
        while (end < text.size() && !is_blank(text[end]) && text[end] != '\n')
            ++end;
        words.push_back(text.substr(at, end - at));
        at = end;
    }
    return words;
}

const char* const example = "such as SYSLOG_IDENTIFIER=exim or _SYSTEMD_UNIT=exim4.service";

} // namespace

std::string JournalMatch::text() const {
    std::string joined;
    for (const auto& alternative : alternatives) {
        if (!joined.empty())
            joined += " + ";
        for (std::size_t i = 0; i < alternative.size(); ++i)
            joined += (i == 0 ? "" : " ") + alternative[i];
    }
    return joined;
}

JournalMatchParse parse_journal_match(std::string_view text) {
    JournalMatch match;
    std::vector<std::string> alternative;
    const auto close_alternative = [&]() -> bool {
        if (alternative.empty())
            return false;
        match.alternatives.push_back(std::move(alternative));
        alternative.clear();
        return true;
    };
    for (const std::string_view word : blank_separated(text)) {
        if (word == "+") {
            if (!close_alternative())
                return {std::nullopt, "\"+\" separates two alternatives of FIELD=VALUE words; "
                                      "one side of it is empty"};
            continue;
        }
        const auto equals = word.find('=');
        if (equals == std::string_view::npos || !is_field_name(word.substr(0, equals)))
            return {std::nullopt,
                    "\"" + std::string(word) +
                        "\" is not FIELD=VALUE (FIELD in capitals, digits and '_'), " + example};
        alternative.emplace_back(word);
    }
    if (alternative.empty())
        return {std::nullopt, match.alternatives.empty()
                                  ? std::string("no FIELD=VALUE word; write one ") + example
                                  : std::string("\"+\" ends the match; an alternative must "
                                                "follow it")};
    close_alternative();
    return {std::move(match), {}};
}

} // namespace exim_ban
