// The two clocks the pipeline reads, given by the band service (tests give
// their own): log time for judging and ban ends, steady time for batches,
// retries and latency.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>

namespace exim_ban {

struct PipelineClock {
    // Now in log time: local wall-clock milliseconds counted as if UTC, the
    // scale of Exim's timestamps (LogTime::wall_seconds).
    std::function<std::int64_t()> log_now_ms;
    std::function<std::chrono::steady_clock::time_point()> steady;
};

// The wait from `now` to `when` in whole milliseconds, 0 when it is past:
// what a part asks its WakeTimer for when woken before it is due.
inline std::chrono::milliseconds until(std::chrono::steady_clock::time_point when,
                                       std::chrono::steady_clock::time_point now) {
    return std::max(std::chrono::milliseconds{0},
                    std::chrono::duration_cast<std::chrono::milliseconds>(when - now));
}

} // namespace exim_ban
