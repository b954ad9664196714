#include "core/exim_log_reader.hpp"

#include <utility>

namespace exim_ban {

EximLogReader::EximLogReader(std::function<std::int64_t()> now, SyslogJoiner::Limits limits)
    : now_(std::move(now))
    , joiner_(limits) {}

std::optional<LogTime> EximLogReader::syslog_time(const SyslogLine& line) {
    if (line.time) {
        years_.follow(line.time->wall_seconds);
        return line.time;
    }
    const YearlessTime& yearless = *line.yearless_time;
    if (!now_seen_ || yearless.month != now_month_ || yearless.day != now_day_) {
        now_seen_ = now_();
        now_month_ = yearless.month;
        now_day_ = yearless.day;
    }
    const std::optional<std::int64_t> wall_seconds = years_.place(yearless, *now_seen_);
    if (!wall_seconds)
        return std::nullopt;
    return LogTime{*wall_seconds, 0, std::nullopt};
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
