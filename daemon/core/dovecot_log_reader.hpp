// One log's lines, in order, to the Dovecot entries they hold: each with
// its time and Dovecot's text (split_dovecot_line), a date without a year
// placed in its year (LogDates). Another program's lines give no entry, so
// a log that Exim and Dovecot share gives a filter of each its own lines.
#pragma once

#include "core/dovecot_line.hpp"
#include "core/log_dates.hpp"
#include "core/log_read.hpp"

#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>

namespace exim_ban {

class DovecotLogReader {
  public:
    // `now`: log time now (LogTime::wall_seconds' scale), asked only for a
    // date without a year.
    explicit DovecotLogReader(std::function<std::int64_t()> now)
        : dates_(std::move(now)) {}

    // The next line of the log, without its '\n'. Never Kind::part:
    // Dovecot writes each entry on one line.
    LogRead read(std::string_view line);

  private:
    LogDates dates_;
};

} // namespace exim_ban
