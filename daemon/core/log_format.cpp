#include "core/log_format.hpp"

namespace exim_ban {

std::optional<LogFormat> parse_log_format(std::string_view name) {
    if (name == "exim")
        return LogFormat::exim;
    if (name == "dovecot")
        return LogFormat::dovecot;
    return std::nullopt;
}

std::string_view log_format_name(LogFormat format) {
    return format == LogFormat::dovecot ? "dovecot" : "exim";
}

} // namespace exim_ban
