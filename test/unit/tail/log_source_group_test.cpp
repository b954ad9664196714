#include "support/fake_log_source.hpp"
#include "tail/log_source_group.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using exim_ban::testing::FakeLogSource;

TEST_CASE("a group's positions are its sources' in the order added", "[log_source_group]") {
    FakeLogSource files, journal;
    files.position.offset = 10;
    journal.position = {};
    journal.position.path = "journal:SYSLOG_IDENTIFIER=exim";
    journal.position.cursor = "s=1";
    LogSourceGroup group;
    group.add(files);
    CHECK(group.positions().size() == 1);
    group.add(journal);

    const auto positions = group.positions();
    REQUIRE(positions.size() == 2);
    CHECK(positions[0].path == "/var/log/exim4/mainlog");
    CHECK(positions[0].offset == 10);
    CHECK(positions[1].path == "journal:SYSLOG_IDENTIFIER=exim");
    CHECK(positions[1].cursor == "s=1");

    // Read when asked, never cached: a commit takes where each source is now.
    journal.position.cursor = "s=2";
    CHECK(group.positions()[1].cursor == "s=2");
}

TEST_CASE("a group pauses and resumes every source", "[log_source_group]") {
    FakeLogSource one, two;
    LogSourceGroup group;
    group.add(one);
    group.add(two);
    group.pause();
    CHECK(one.paused);
    CHECK(two.paused);
    group.resume();
    CHECK_FALSE(one.paused);
    CHECK_FALSE(two.paused);
}
