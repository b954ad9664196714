// Splits a mainlog line into its time and Exim's message, the part that
// filters match. Accepted shapes (those Exim and syslog/journald write):
//   2026-11-23 17:01:48 MESSAGE
//   2026-11-23 17:01:48.123 +0100 [4711] MESSAGE          (+millisec, log_timezone, +pid)
//   2026-11-23 17:01:48 mx1 exim[4711]: [4711] MESSAGE      (syslog tag after the time)
//   mx1 exim[4711]: 2026-11-23 17:01:48 MESSAGE             (journal)
//   Nov 23 17:01:48 mx1 exim[4711]: 2026-11-23 17:01:48 MESSAGE   (syslog file)
// Syslog lines without Exim's own timestamp, and the parts of an entry
// Exim split for syslog, need the state of their log: see exim_log_reader.
#pragma once

#include "core/log_time.hpp"

#include <cstddef>
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

// What Exim passes to syslog() for one log entry: its own timestamp when
// syslog_timestamp is true (the default), then "[pid] " with +pid (unless
// syslog_pid is false), then the message.
struct EximText {
    std::optional<LogTime> time; // Exim's timestamp, when the text has one
    std::string_view message;    // never empty, never starts with a space
};

// Returns nullopt when no message is left.
std::optional<EximText> split_exim_text(std::string_view text);

// "YYYY-MM-DD" `separator` "HH:MM:SS[.d{1,6}]" at `pos` (Exim's own
// timestamp has ' ', RFC 3339's 'T'), as local wall-clock time without an
// offset; advances pos past it. Returns nullopt for another shape or an
// impossible date or time.
std::optional<LogTime> read_date_time(std::string_view text, std::size_t& pos, char separator);

} // namespace exim_ban
