#include "journal/journal_start.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

namespace {

LogPosition journal(const char* name, const char* cursor) {
    LogPosition position;
    position.path = name;
    position.cursor = cursor;
    return position;
}

const char* const older = "s=ab;i=10;b=cd;m=5;t=5f0000000000a;x=1";
const char* const newer = "s=ab;i=20;b=cd;m=9;t=5f0000000000f;x=2";

} // namespace

TEST_CASE("a journal source starts at its own cursor", "[journal]") {
    const auto start =
        journal_start("journal:A=1", {journal("journal:B=2", newer), journal("journal:A=1", older),
                                      LogPosition{"/var/log/exim4/mainlog", 1, 2, "h", 10}});
    CHECK(start.cursor == older);
    CHECK(start.inherited.empty());
}

TEST_CASE("a journal source without a cursor starts after the newest other journal cursor",
          "[journal]") {
    const auto start = journal_start(
        "journal:C=3", {journal("journal:A=1", older), journal("journal:B=2", newer),
                        journal("journal:D=4", "no realtime"), journal("journal:E=5", "")});
    CHECK(start.cursor == newer);
    CHECK(start.inherited == "journal:B=2");
}

TEST_CASE("with no journal cursor at all, a journal source starts at the oldest entry",
          "[journal]") {
    CHECK(journal_start("journal:A=1", {}).cursor.empty());
    CHECK(journal_start("journal:A=1", {LogPosition{"/var/log/exim4/mainlog", 1, 2, "h", 10},
                                        journal("journal:A=1", "")})
              .cursor.empty());
}

TEST_CASE("a cursor's realtime is its t= field in hex", "[journal]") {
    CHECK(cursor_realtime(newer) == 0x5f0000000000f);
    CHECK(cursor_realtime("t=ff") == 255);
    CHECK_FALSE(cursor_realtime("s=1;i=2"));
    CHECK_FALSE(cursor_realtime("t=;x=1"));
    CHECK_FALSE(cursor_realtime("t=zz"));
    CHECK_FALSE(cursor_realtime(""));
}
