// Where a journal source starts, from the positions the store committed
// (pure). Its own cursor when it has one. A source with none whose match is
// new (the jail's journalmatch changed, or a jail joined) starts after the
// newest cursor any journal source committed: the entries before it that
// the new match selects were read under the old one or are not Exim's
// concern any more, and reading them again would count their hits twice.
// With no journal cursor at all, the journal is read from its oldest entry,
// as the Tailer reads a file it has no position for from its first byte.
#pragma once

#include "core/log_position.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exim_ban {

struct JournalStart {
    std::string cursor;    // empty: the oldest entry
    std::string inherited; // when `cursor` is another source's: its name
};

// `name`: the source's position path (journal_source_name).
JournalStart journal_start(const std::string& name, const std::vector<LogPosition>& committed);

// The __REALTIME_TIMESTAMP a cursor holds ("t=<hex>"), nullopt when it has
// none.
std::optional<std::uint64_t> cursor_realtime(std::string_view cursor);

} // namespace exim_ban
