// The batch latency histogram: how long from a batch's commit to its bans
// in the kernel, in fixed buckets (Prometheus's cumulative form is made by
// whoever prints it). Pure: the caller measures.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace exim_ban {

// Upper bounds (ms) of the buckets; the last bucket is +Inf.
inline constexpr std::array<double, 9> batch_latency_buckets_ms{0.5, 1, 2, 5, 10, 25, 50, 100, 250};

class LatencyHistogram {
  public:
    using Counts = std::array<std::uint64_t, batch_latency_buckets_ms.size() + 1>;

    // Counts one batch in the first bucket whose bound it does not pass.
    void note(std::chrono::duration<double, std::milli> latency);

    // Batches per bucket (not cumulative), the last one past every bound.
    const Counts& counts() const { return counts_; }
    // The sum of the latencies noted, in seconds.
    double seconds() const { return seconds_; }

  private:
    Counts counts_{};
    double seconds_ = 0;
};

} // namespace exim_ban
