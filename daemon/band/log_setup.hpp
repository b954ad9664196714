// Where exim-band's log lines go: the terminal in the foreground, the
// journal under systemd, syslog when it detached itself.
#pragma once

namespace exim_ban {

enum class LogTarget { terminal, journal, syslog };

// The journal when stderr is systemd's journal stream (JOURNAL_STREAM),
// else the terminal, unless the caller detaches (syslog).
LogTarget detect_log_target();
void setup_logging(LogTarget target);

} // namespace exim_ban
