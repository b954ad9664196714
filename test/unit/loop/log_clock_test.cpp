#include "loop/log_clock.hpp"

#include <catch2/catch.hpp>
#include <ctime>

using namespace exim_ban;

TEST_CASE("log time is the local wall clock counted as if UTC", "[log_clock]") {
    // 2026-07-01 12:00:00.250 UTC: in summer where the zone has one.
    const auto instant =
        std::chrono::system_clock::from_time_t(1782907200) + std::chrono::milliseconds(250);
    const std::time_t seconds = 1782907200;
    std::tm local{};
    REQUIRE(::localtime_r(&seconds, &local) != nullptr);
    const std::int64_t wall =
        ((static_cast<std::int64_t>(local.tm_hour) * 60 + local.tm_min) * 60 + local.tm_sec) * 1000;
    CHECK(log_ms_at(instant) % 86'400'000 == (wall + 250) % 86'400'000);
    CHECK(log_ms_at(instant) - 1782907200250 == static_cast<std::int64_t>(local.tm_gmtoff) * 1000);
}
