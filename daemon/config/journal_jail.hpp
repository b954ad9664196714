// Which journal entries a jail's source with `logpath = journal` reads: its
// own `journalmatch`, else its filter's [Init] journalmatch (fail2ban's
// order).
// Decided once the filter is loaded, by the daemon and by check-config.
#pragma once

#include "config/config.hpp"
#include "filter/loaded_filter.hpp"

#include <optional>
#include <string>

namespace exim_ban {

struct JailJournalMatch {
    std::optional<JournalMatch> match; // nullopt: the jail reads no journal, or `error`
    std::string origin;                // where the match was written ("file:line")
    std::string error;                 // a journal jail without a match: where and what to write
};

JailJournalMatch journal_match_of(const Config& config, const SourceConfig& source,
                                  const LoadedFilter& filter);

} // namespace exim_ban
