// Splits a mainlog line into its time and Exim's message, the part that
// filters match. Accepted shapes (those Exim and syslog/journald write):
//   2026-11-23 17:01:48 MESSAGE
//   2026-11-23 17:01:48.123 +0100 [4711] MESSAGE          (+millisec, log_timezone, +pid)
//   2026-11-23 17:01:48 mx1 exim[4711]: [4711] MESSAGE      (syslog tag after the time)
//   mx1 exim[4711]: 2026-11-23 17:01:48 MESSAGE             (journal)
//   Nov 23 17:01:48 mx1 exim[4711]: 2026-11-23 17:01:48 MESSAGE   (syslog file)
#pragma once

#include "core/log_time.hpp"

#include <optional>
#include <string_view>

namespace exim_ban {

struct EximLine {
    LogTime time;
    std::string_view message; // never empty, never starts with a space
};

// Returns nullopt when the line does not start with one of the shapes above
// (no Exim timestamp, an impossible date or time): such a line is never
// matched, because a hit needs a time.
std::optional<EximLine> split_exim_line(std::string_view line);

} // namespace exim_ban
