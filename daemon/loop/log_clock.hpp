// Log time now, or of a given instant: local wall-clock time counted as if
// it were UTC (see core/log_time.hpp), the scale Exim's timestamps are read
// on. The offset is asked of the C library for the instant itself, so a
// change of daylight saving time is followed.
#pragma once

#include <chrono>
#include <cstdint>

namespace exim_ban {

// Milliseconds of log time at `instant`.
std::int64_t log_ms_at(std::chrono::system_clock::time_point instant);

} // namespace exim_ban
