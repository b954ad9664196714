#include "core/duration.hpp"

#include <catch2/catch.hpp>

using exim_ban::format_duration;
using exim_ban::parse_duration;
using std::chrono::seconds;

TEST_CASE("durations as admins write them", "[duration]") {
    CHECK(parse_duration("3600") == seconds{3600});
    CHECK(parse_duration("0") == seconds{0});
    CHECK(parse_duration("15m") == seconds{900});
    CHECK(parse_duration("1h") == seconds{3600});
    CHECK(parse_duration("4w") == seconds{4 * 604800});
    CHECK(parse_duration("1d") == seconds{86400});
    CHECK(parse_duration("1h30m") == seconds{5400});
    CHECK(parse_duration("2d 12h") == seconds{216000});
    CHECK(parse_duration(" 10 min ") == seconds{600});
    CHECK(parse_duration("2 hours") == seconds{7200});
    CHECK(parse_duration("45s") == seconds{45});
}

TEST_CASE("bad durations are refused", "[duration]") {
    for (const char* bad : {"", " ", "h", "1x", "-1", "1.5h", "10 5", "1h 30", "1mo",
                            "99999999999999999999", "1h-", "5w3", "3600s s"}) {
        INFO(bad);
        CHECK_FALSE(parse_duration(bad));
    }
}

TEST_CASE("durations print in the largest exact units", "[duration]") {
    CHECK(format_duration(seconds{3600}) == "1h");
    CHECK(format_duration(seconds{5400}) == "1h30m");
    CHECK(format_duration(seconds{4 * 604800}) == "4w");
    CHECK(format_duration(seconds{90061}) == "1d1h1m1s");
    CHECK(format_duration(seconds{0}) == "0s");
}
