// A syslog date without a year (RFC 3164's "Dec  7 14:01:05", as rsyslog's
// traditional format writes it) gets the year that keeps its log's time
// moving forward: a December log read in January stays in December of the
// year before, and its lines after New Year's Eve go on into the new year.
#pragma once

#include <cstdint>
#include <optional>

namespace exim_ban {

struct YearlessTime {
    unsigned month = 1; // 1 to 12
    unsigned day = 1;   // 1 to 31
    std::int32_t second_of_day = 0;
};

// One per log, fed its lines in order. Pure: "now" is an argument.
class YearPicker {
  public:
    // How far ahead of now a line may be before it is taken for one of the
    // year before (the clocks and time zones of the hosts that wrote it).
    static constexpr std::int64_t future_slack_seconds = 86400;

    // The wall-clock seconds (LogTime::wall_seconds) of `time` in the year,
    // of the three around the log's previous line, that puts it nearest to
    // that line (so time moves forward across New Year, and a line a little
    // out of order stays in its year), never more than future_slack ahead
    // of `now` (log time, the same scale). The first line, with no previous
    // one, takes the latest year that is not ahead of now. Returns nullopt
    // for a date that none of those years has (April 31, or February 29
    // with no leap year among them).
    std::optional<std::int64_t> place(const YearlessTime& time, std::int64_t now);

    // A line whose date said its year (RFC 3339, Exim's own timestamp):
    // later dates without one follow it.
    void follow(std::int64_t wall_seconds) { previous_ = wall_seconds; }

  private:
    std::optional<std::int64_t> previous_;
};

} // namespace exim_ban
