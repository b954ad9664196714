// A journal entry as the line the pipeline reads, in the RFC 3339 syslog
// form rsyslog writes with its high-precision timestamps:
//   2026-12-07T14:01:05.123456+00:00 HOST IDENT[PID]: MESSAGE
// time from __REALTIME_TIMESTAMP in UTC, HOST _HOSTNAME (else "localhost"),
// IDENT SYSLOG_IDENTIFIER (else _COMM, else "-"), PID SYSLOG_PID (else _PID;
// "[PID]" left out when there is neither). Pure.
//
// A MESSAGE is handed on as the bytes it holds, not assumed UTF-8 (as a
// file's lines are). Newlines at its end are dropped; one inside it cannot
// come from Exim, which writes each log line as a syslog message of its
// own, so the text after it is client text: the line ends before it and is
// flagged cut, which the pipeline counts and never matches. So is a line
// longer than max_line_bytes, cut there like a file's.
#pragma once

#include "journal/journal_entry.hpp"

#include <string>

namespace exim_ban {

// Writes the entry's line into `line` (its old content replaced, its
// capacity reused). Returns true when the line is cut (see above).
bool format_journal_line(const JournalEntry& entry, std::string& line);

} // namespace exim_ban
