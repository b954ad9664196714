#include "import/fail2ban_duration.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using std::chrono::seconds;

namespace {

std::optional<std::int64_t> seconds_of(std::string_view text) {
    auto duration = parse_fail2ban_duration(text);
    if (!duration)
        return std::nullopt;
    return duration->negative ? -duration->seconds.count() : duration->seconds.count();
}

} // namespace

TEST_CASE("fail2ban's durations as its jail.conf writes them", "[import]") {
    CHECK(seconds_of("600") == 600);
    CHECK(seconds_of("10m") == 600);
    CHECK(seconds_of("1h") == 3600);
    CHECK(seconds_of("1h 30m") == 5400);
    CHECK(seconds_of("1h30m") == 5400);
    CHECK(seconds_of("0d 1h 30m") == 5400);
    CHECK(seconds_of("1hour+30min") == 5400);
    CHECK(seconds_of("2 weeks") == 14 * 86400);
    CHECK(seconds_of("1W") == 7 * 86400);
    CHECK(seconds_of("1.5h") == 5400);
    CHECK(seconds_of("1d12h") == 129600);
}

TEST_CASE("fail2ban's months and years are a year's share of 365.25 days", "[import]") {
    CHECK(seconds_of("1y") == 31557600);
    CHECK(seconds_of("1mo") == 2629800);
    CHECK(seconds_of("6 months") == 6 * 2629800);
}

TEST_CASE("a negative bantime is fail2ban's permanent ban", "[import]") {
    const auto permanent = parse_fail2ban_duration("-1");
    REQUIRE(permanent);
    CHECK(permanent->negative);
    CHECK(permanent->seconds == seconds{1});
}

TEST_CASE("what fail2ban would evaluate as Python is not read", "[import]") {
    for (const char* text : {"", "  ", "1year-6mo", "2*3600", "(1h)", "1 fortnight", "h", "1h-",
                             "10e", "1..5h", "1e400"})
        CHECK_FALSE(parse_fail2ban_duration(text));
}
