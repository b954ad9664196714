// One log's lines, in order, to the Exim log entries they hold: each with
// its time and the message that filters match. A mainlog's lines are
// entries (split_exim_line). A syslog file's lines (split_syslog_line) are
// entries too, with the parts of an entry Exim split joined again
// (SyslogJoiner) and a date without a year placed in its year
// (YearPicker). The daemon's pipeline and `exim-banctl test` each keep one
// per log and read every line through it, so both routes give the same
// hits, and a syslog file gives the hits its mainlog would.
//
// Which time an entry has: Exim's own timestamp when the line carries it
// (a mainlog; syslog with syslog_timestamp = true, Exim's default), else the
// syslog date. Exim's wins because it is the time the mainlog route counts
// with (the same findtime windows, the same ban times, in Exim's
// log_timezone), to the millisecond with +millisec, and with its year;
// the syslog date is when syslog received the line, in its own format.
#pragma once

#include "core/exim_line.hpp"
#include "core/log_dates.hpp"
#include "core/log_read.hpp"
#include "core/syslog_joiner.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace exim_ban {

class EximLogReader {
  public:
    using Read = LogRead;
    using Kind = LogRead::Kind;

    // `now`: log time now (LogTime::wall_seconds' scale), asked only for a
    // syslog date without a year.
    explicit EximLogReader(std::function<std::int64_t()> now,
                           SyslogJoiner::Limits limits = SyslogJoiner::Limits{});

    // The next line of the log, without its '\n'.
    Read read(std::string_view line) {
        // A mainlog's line, or syslog's with Exim's timestamp, while no
        // split entry waits: the path of nearly every line.
        if (!joiner_.waiting()) {
            if (const std::optional<EximLine> exim = split_exim_line(line))
                return Read{Kind::entry, *exim, 0};
        }
        return read_syslog(line);
    }

    // The log has ended (a finished file): returns the parts dropped with
    // the entries that still waited.
    std::uint64_t finish() {
        joiner_.finish();
        return joiner_.take_dropped();
    }

  private:
    Read read_syslog(std::string_view line);
    std::optional<LogTime> syslog_time(const SyslogLine& line);
    Read entry_of(std::string_view text, const LogTime& syslog_time);

    LogDates dates_;
    SyslogJoiner joiner_;
};

} // namespace exim_ban
