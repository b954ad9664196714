// How far the daemon is behind a log it follows, for `exim-banctl status`:
// the file at the path now against the position the tailer reports.
#pragma once

#include "core/log_position.hpp"

#include <cstdint>
#include <optional>

namespace exim_ban {

struct LogLag {
    std::uint64_t size = 0; // of the file at the path now
    // Bytes written past the position and not yet handed on: 0 when the
    // daemon keeps up, and while the path holds another file than the
    // position's (a rotation not followed yet).
    std::uint64_t bytes = 0;
};

// nullopt when the path cannot be stat()ed (missing, unreadable directory).
std::optional<LogLag> log_lag(const LogPosition& position);

} // namespace exim_ban
