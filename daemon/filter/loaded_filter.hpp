// A filter after loading: its patterns in RE2 syntax, each with the text an
// admin wrote and where it was written, ready for the LineMatcher.
#pragma once

#include "core/journal_match.hpp"
#include "core/line_matcher.hpp"
#include "core/log_format.hpp"

#include <optional>
#include <string>
#include <vector>

namespace exim_ban {

struct FilterPattern {
    std::string written; // after interpolation, with <HOST> tags: what reports show
    std::string re2;     // what is compiled
    std::string file;
    int line = 0;
};

struct LoadedFilter {
    std::string name;   // as the spec named it, with its parameters
    std::string source; // the main file
    std::optional<FilterPattern> prefregex;
    std::vector<FilterPattern> failregex;
    std::vector<FilterPattern> ignoreregex;
    // Lines that record a good login: each holds a host tag and an
    // <F-USER> group, the account that logged in. Matched by a LineMatcher
    // of their own (success_patterns()), whose hits are successes.
    std::vector<FilterPattern> successregex;
    std::vector<std::string> warnings; // "file:line: ..." worth telling the admin
    // [Init] journalmatch (or a `journalmatch` parameter): the journal
    // entries a jail reading `logpath = journal` takes, unless the jail has
    // its own; with the place it was written ("file:line").
    std::optional<JournalMatch> journalmatch;
    std::string journalmatch_origin;
    // [Definition] logformat: whose lines the patterns are written for, so
    // which reader gives them their text (exim unless the filter says).
    LogFormat log_format = LogFormat::exim;

    LineMatcherPatterns matcher_patterns() const;
    // The successregexes as a LineMatcher's failregexes, after the
    // prefregex as they are (no ignoreregex); nullopt when the filter has
    // none.
    std::optional<LineMatcherPatterns> success_patterns() const;
};

} // namespace exim_ban
