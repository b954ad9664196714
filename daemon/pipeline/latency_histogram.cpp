#include "pipeline/latency_histogram.hpp"

#include <algorithm>

namespace exim_ban {

void LatencyHistogram::note(std::chrono::duration<double, std::milli> latency) {
    const double ms = latency.count();
    const auto bucket =
        std::lower_bound(batch_latency_buckets_ms.begin(), batch_latency_buckets_ms.end(), ms);
    ++counts_[static_cast<std::size_t>(bucket - batch_latency_buckets_ms.begin())];
    seconds_ += ms / 1000;
}

} // namespace exim_ban
