// The two clocks the pipeline reads, given by the band service (tests give
// their own): log time for judging and ban ends, steady time for batches,
// retries and latency.
#pragma once

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

} // namespace exim_ban
