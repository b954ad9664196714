#include "core/exim_log_reader.hpp"

#include <utility>

namespace exim_ban {

EximLogReader::EximLogReader(std::function<std::int64_t()> now, SyslogJoiner::Limits limits)
    : dates_(std::move(now))
    , joiner_(limits) {}

std::optional<LogTime> EximLogReader::syslog_time(const SyslogLine& line) {
    if (line.time)
        return dates_.dated(*line.time);
    return dates_.placed(*line.yearless_time);
}

EximLogReader::Read EximLogReader::entry_of(std::string_view text, const LogTime& syslog_time) {
    const std::optional<EximText> exim = split_exim_text(text);
    if (!exim)
        return Read{Kind::untimed, {}, joiner_.take_dropped()};
    return Read{Kind::entry, EximLine{exim->time ? *exim->time : syslog_time, exim->message},
                joiner_.take_dropped()};
}

EximLogReader::Read EximLogReader::read_syslog(std::string_view line) {
    const std::optional<SyslogLine> syslog = split_syslog_line(line);
    if (!syslog) {
        // While a split entry waits, the mainlog's shapes come here too.
        if (joiner_.waiting()) {
            if (const std::optional<EximLine> exim = split_exim_line(line))
                return Read{Kind::entry, *exim, 0};
        }
        return Read{};
    }
    const std::optional<LogTime> time = syslog_time(*syslog);
    if (!time)
        return Read{};
    const SyslogSender sender{syslog->tag.host, syslog->tag.ident, syslog->tag.pid};
    if (!syslog->part) {
        joiner_.other_line(sender, *time);
        return entry_of(syslog->text, *time);
    }
    const std::optional<SyslogJoiner::Joined> joined =
        joiner_.add(sender, *syslog->part, syslog->text, *time);
    if (!joined)
        return Read{Kind::part, {}, joiner_.take_dropped()};
    return entry_of(joined->text, joined->time);
}

} // namespace exim_ban
