// Whose log lines a filter reads: the shape of the lines around the text its
// patterns match (a filter's `logformat`, see exim-ban-filter(5)).
#pragma once

#include <optional>
#include <string_view>

namespace exim_ban {

enum class LogFormat {
    exim,    // Exim's mainlog, and Exim's lines through syslog or the journal
    dovecot, // Dovecot's log_path file, and Dovecot's lines through syslog or the journal
};

// "exim" or "dovecot"; nullopt for any other name.
std::optional<LogFormat> parse_log_format(std::string_view name);
std::string_view log_format_name(LogFormat format);

} // namespace exim_ban
