// The times of one log's syslog dates, line after line: an RFC 3339 date
// as read (and followed, so that the year of the dates without one stays
// right), a date without a year (RFC 3164, Dovecot's default log_timestamp)
// placed in its year by YearPicker.
#pragma once

#include "core/log_time.hpp"
#include "core/year_picker.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

namespace exim_ban {

class LogDates {
  public:
    // `now`: log time now (LogTime::wall_seconds' scale), asked only for a
    // date without a year.
    explicit LogDates(std::function<std::int64_t()> now)
        : now_(std::move(now)) {}

    // A date with its year: returned as it is.
    LogTime dated(const LogTime& time) {
        years_.follow(time.wall_seconds);
        return time;
    }
    // Returns nullopt when the date cannot be placed (29 February of no
    // year near enough).
    std::optional<LogTime> placed(const YearlessTime& time);

  private:
    std::function<std::int64_t()> now_;
    YearPicker years_;
    // `now` asked again when the date without a year changes: a day's
    // staleness is inside YearPicker's slack.
    std::optional<std::int64_t> now_seen_;
    unsigned now_month_ = 0;
    unsigned now_day_ = 0;
};

} // namespace exim_ban
