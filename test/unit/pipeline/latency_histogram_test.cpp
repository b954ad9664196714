#include "pipeline/latency_histogram.hpp"

#include <catch2/catch.hpp>

using exim_ban::LatencyHistogram;
using Ms = std::chrono::duration<double, std::milli>;

TEST_CASE("a latency goes to the first bucket whose bound it does not pass", "[pipeline]") {
    LatencyHistogram histogram;
    histogram.note(Ms{0.2});
    histogram.note(Ms{0.5}); // on the bound: still in it
    histogram.note(Ms{0.6});
    histogram.note(Ms{30});
    histogram.note(Ms{251}); // past every bound: +Inf
    const LatencyHistogram::Counts& counts = histogram.counts();
    CHECK(counts[0] == 2);
    CHECK(counts[1] == 1);
    CHECK(counts[6] == 1); // 25 < 30 <= 50
    CHECK(counts.back() == 1);
    std::uint64_t total = 0;
    for (const auto count : counts)
        total += count;
    CHECK(total == 5);
    CHECK(histogram.seconds() == Approx(0.2823));
}
