// The reader of one log for one LogFormat: the one type through which the
// daemon's pipeline and `exim-banctl test` read every line, so that both
// give the same entries. Cheap to make: a log read by filters of two
// formats has a reader of each.
#pragma once

#include "core/dovecot_log_reader.hpp"
#include "core/exim_log_reader.hpp"
#include "core/log_format.hpp"
#include "core/log_read.hpp"

#include <cstdint>
#include <functional>
#include <string_view>
#include <variant>

namespace exim_ban {

class LogReader {
  public:
    // `now`: log time now (LogTime::wall_seconds' scale), asked only for a
    // syslog date without a year.
    LogReader(LogFormat format, std::function<std::int64_t()> now);

    LogFormat format() const { return format_; }

    // The next line of the log, without its '\n'.
    LogRead read(std::string_view line) {
        return std::visit([line](auto& reader) { return reader.read(line); }, reader_);
    }

    // The log has ended (a finished file): returns the parts dropped with
    // the entries that still waited.
    std::uint64_t finish();

  private:
    LogFormat format_;
    std::variant<EximLogReader, DovecotLogReader> reader_;
};

} // namespace exim_ban
