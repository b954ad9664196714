#include "core/log_time.hpp"
#include "core/year_picker.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

namespace {

std::int64_t at(std::int64_t year, unsigned month, unsigned day, std::int32_t second = 0) {
    return days_from_civil(year, month, day) * 86400 + second;
}

std::string placed(YearPicker& years, unsigned month, unsigned day, std::int64_t now,
                   std::int32_t second = 0) {
    const auto wall = years.place({month, day, second}, now);
    return wall ? LogTime{*wall, 0, std::nullopt}.iso() : "(none)";
}

} // namespace

TEST_CASE("a December log read in January keeps its year, then moves on", "[year_picker]") {
    YearPicker years;
    const std::int64_t now = at(2027, 1, 2, 9 * 3600);
    CHECK(placed(years, 12, 30, now, 10) == "2026-12-30T00:00:10");
    CHECK(placed(years, 12, 31, now, 86399) == "2026-12-31T23:59:59");
    // A line a second out of order across midnight stays in its year.
    CHECK(placed(years, 1, 1, now, 1) == "2027-01-01T00:00:01");
    CHECK(placed(years, 12, 31, now, 86399) == "2026-12-31T23:59:59");
    CHECK(placed(years, 1, 1, now, 2) == "2027-01-01T00:00:02");
    CHECK(placed(years, 1, 2, now, 3600) == "2027-01-02T01:00:00");
}

TEST_CASE("the first line takes the latest year that is not ahead of now", "[year_picker]") {
    const std::int64_t now = at(2026, 12, 7, 12 * 3600);
    YearPicker today;
    CHECK(placed(today, 12, 7, now) == "2026-12-07T00:00:00");
    YearPicker tomorrow; // within the slack: another host's clock or zone
    CHECK(placed(tomorrow, 12, 8, now) == "2026-12-08T00:00:00");
    YearPicker later; // an old rotated log from last December's end
    CHECK(placed(later, 12, 20, now) == "2025-12-20T00:00:00");
    YearPicker summer;
    CHECK(placed(summer, 6, 1, now) == "2026-06-01T00:00:00");
}

TEST_CASE("a line whose date has its year sets where the next ones follow", "[year_picker]") {
    YearPicker years;
    const std::int64_t now = at(2027, 3, 1);
    years.follow(at(2026, 12, 31, 86000));
    CHECK(placed(years, 12, 31, now, 86100) == "2026-12-31T23:55:00");
    CHECK(placed(years, 1, 1, now, 5) == "2027-01-01T00:00:05");
}

TEST_CASE("never a year ahead of now, however near the previous line", "[year_picker]") {
    YearPicker years;
    const std::int64_t now = at(2026, 12, 31, 20 * 3600);
    CHECK(placed(years, 12, 31, now, 19 * 3600) == "2026-12-31T19:00:00");
    // "Jan 5" cannot be next week; it is an old line out of place.
    CHECK(placed(years, 1, 5, now) == "2026-01-05T00:00:00");
}

TEST_CASE("February 29 only in a leap year; impossible dates give nothing", "[year_picker]") {
    YearPicker leap;
    CHECK(placed(leap, 2, 29, at(2028, 3, 1)) == "2028-02-29T00:00:00");
    YearPicker after_leap; // 2027 has none: the nearest that has one
    CHECK(placed(after_leap, 2, 29, at(2029, 3, 1)) == "2028-02-29T00:00:00");
    YearPicker none; // 2025, 2026, 2027: no leap year around
    CHECK(placed(none, 2, 29, at(2026, 3, 1)) == "(none)");
    CHECK(placed(none, 4, 31, at(2026, 5, 1)) == "(none)");
}
