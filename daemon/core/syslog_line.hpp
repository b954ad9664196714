// The syslog header in front of what Exim passed to syslog(), as rsyslog
// writes it to a file (and the journal source writes the journal's
// entries):
//   Dec  7 14:01:05 HOST IDENT[PID]: TEXT                     (traditional: RFC 3164, no year)
//   2026-12-07T14:01:05.123456+00:00 HOST IDENT[PID]: TEXT    (RSYSLOG_FileFormat: RFC 3339)
// IDENT is Exim's syslog_processname ("exim", Debian's too) or another
// starting with "exim"; "[PID]" is there when Exim was built with
// SYSLOG_LOG_PID, as Debian's is. (Dovecot's lines have the same header
// with its own idents: SyslogProgram::dovecot.) Then the mark that Exim's write_syslog
// (src/log.c) puts in front of each part of an entry it splits: "[i/n] "
// for part i of n, with '\' instead of '/' when the part ends where the
// entry had a newline. Exim splits at every newline and after 870 bytes.
#pragma once

#include "core/log_time.hpp"
#include "core/year_picker.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace exim_ban {

// Whose lines a syslog header must name. exim: IDENT "exim" followed by
// digits, small letters, '_' or '-'. dovecot: IDENT "dovecot" followed by
// the same (its instance_name; "dovecot-auth" of old versions), or "auth"
// (PAM's lines from Dovecot's auth process); Dovecot never splits a line,
// so its text has no part mark.
enum class SyslogProgram { exim, dovecot };

struct SyslogTag {
    std::string_view host;
    std::string_view ident;
    std::optional<std::uint32_t> pid;
};

struct SyslogPart {
    unsigned index = 1; // from 1
    unsigned total = 2; // at least 2
    bool ends_line = false;
};

struct SyslogLine {
    // Exactly one of the two dates is set.
    std::optional<LogTime> time;               // RFC 3339
    std::optional<YearlessTime> yearless_time; // RFC 3164
    SyslogTag tag;
    std::optional<SyslogPart> part;
    std::string_view text; // after the tag and the part's mark; may be empty
};

// Returns nullopt when the line is not one of the shapes above (another
// program's line, a date that cannot be, no tag).
std::optional<SyslogLine> split_syslog_line(std::string_view line,
                                            SyslogProgram program = SyslogProgram::exim);

// "Mmm dd HH:MM:SS " at `pos` (dd space-padded or not); advances pos past
// its space. Returns nullopt for another shape or a time that cannot be.
std::optional<YearlessTime> read_rfc3164_date(std::string_view text, std::size_t& pos);

// "HOST IDENT[PID]:" or "HOST IDENT:" at `pos`, IDENT the program's (see
// SyslogProgram); advances pos past the colon. Returns nullopt for
// anything else.
std::optional<SyslogTag> read_syslog_tag(std::string_view text, std::size_t& pos,
                                         SyslogProgram program = SyslogProgram::exim);

// The mark "[i/n] " or "[i\n] " at `pos`; advances pos past its space.
// Returns nullopt when there is none (a whole entry) or it cannot be Exim's.
std::optional<SyslogPart> read_part_mark(std::string_view text, std::size_t& pos);

} // namespace exim_ban
