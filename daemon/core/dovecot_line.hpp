// Splits a line of Dovecot's log into its time and the text filters match.
// Accepted shapes (those Dovecot, rsyslog, the journal source and
// daemontools' multilog write):
//   Dec  7 14:01:05 imap-login: Info: Disconnected ...          (log_path, default log_timestamp)
//   2026-12-07 14:01:05 auth-worker(9): Info: pam(...): ...    (log_timestamp "%Y-%m-%d %H:%M:%S ")
//   Dec  7 14:01:05 mx1 dovecot[77]: imap-login: Disconnected ...        (syslog, RFC 3164)
//   2026-12-07T14:01:05.123+01:00 mx1 dovecot[77]: imap-login: ...      (RFC 3339; the journal
//   source) Dec  7 14:01:05 mx1 auth: pam_unix(dovecot:auth): ...       (PAM in Dovecot's auth
//   process)
//   @4000000063904f6d0a2c3b14 imap-login: Info: ...             (TAI64N label)
// The text is Dovecot's own, starting with its process name
// ("imap-login: ", "auth-worker(9): "); a syslog line of another program
// (another ident) is not Dovecot's, nor is a dated line whose text does not
// start with a process name, so a log shared with Exim (mail.log) gives
// only Dovecot's lines.
#pragma once

#include "core/log_time.hpp"
#include "core/year_picker.hpp"

#include <optional>
#include <string_view>

namespace exim_ban {

struct DovecotLine {
    // Exactly one of the two dates is set.
    std::optional<LogTime> time;               // a date with its year; TAI64N as UTC
    std::optional<YearlessTime> yearless_time; // RFC 3164 and Dovecot's default
    std::string_view text;                     // never empty, never starts with a space
};

// Returns nullopt when the line is none of the shapes above.
std::optional<DovecotLine> split_dovecot_line(std::string_view line);

} // namespace exim_ban
