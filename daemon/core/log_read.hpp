// What a log reader gives for one line of its log (EximLogReader,
// DovecotLogReader, through LogReader): an entry to match, with its time
// and the message that filters match; no entry; or a part of an entry that
// is not finished yet.
#pragma once

#include "core/exim_line.hpp"

#include <cstdint>

namespace exim_ban {

struct LogRead {
    enum class Kind {
        entry,   // an entry to match: `entry`
        untimed, // no entry of the reader's program (no time, another program's line): never
                 // matched
        part,    // a part of a split entry that did not finish its first line
    };

    Kind kind = Kind::untimed;
    EximLine entry;                  // with Kind::entry; the message is valid until the next read
    std::uint64_t dropped_parts = 0; // parts (of earlier lines too) dropped by this read
};

} // namespace exim_ban
