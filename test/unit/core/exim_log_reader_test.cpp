#include "core/exim_log_reader.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace exim_ban;

namespace {

const std::int64_t december_7 = days_from_civil(2026, 12, 7) * 86400 + 15 * 3600;

// What a reader gives for each line: "TIME MESSAGE", "untimed" or "part".
std::vector<std::string> read_all(const std::vector<std::string>& lines,
                                  std::int64_t now = december_7) {
    EximLogReader reader([now] { return now; });
    std::vector<std::string> out;
    for (const auto& line : lines) {
        const EximLogReader::Read read = reader.read(line);
        switch (read.kind) {
        case EximLogReader::Kind::entry:
            out.push_back(read.entry.time.iso() + " " + std::string(read.entry.message));
            break;
        case EximLogReader::Kind::untimed:
            out.emplace_back("untimed");
            break;
        case EximLogReader::Kind::part:
            out.emplace_back("part");
            break;
        }
    }
    return out;
}

using Lines = std::vector<std::string>;

const std::string failure =
    "login authenticator failed for (x) [192.0.2.1]: 535 Incorrect authentication data";

} // namespace

TEST_CASE("a mainlog's lines read as split_exim_line reads them", "[exim_log_reader]") {
    CHECK(read_all({"2026-11-23 17:01:48 [4711] " + failure, "not a log line", " continued"}) ==
          Lines{"2026-11-23T17:01:48 " + failure, "untimed", "untimed"});
}

TEST_CASE("the syslog date is the time, unless Exim's own timestamp is there",
          "[exim_log_reader]") {
    // syslog_timestamp = false, then true: Exim's time wins (the header).
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"Dec  7 14:01:05 mx1 exim[4711]: [4711] ", "2026-12-07T14:01:05"},
        {"Dec  7 14:01:06 mx1 exim[4711]: ", "2026-12-07T14:01:06"},
        {"2026-12-07T14:01:07.250000+00:00 mx1 exim[4711]: ", "2026-12-07T14:01:07"},
        {"Dec  7 14:01:05 mx1 exim[1]: 2026-12-07 14:01:03 ", "2026-12-07T14:01:03"},
        {"2026-12-07T14:01:05.123+01:00 mx1 exim[1]: 2026-12-07 14:01:04.500 ",
         "2026-12-07T14:01:04"},
        {"mx1 exim[1]: 2026-12-07 14:01:04 [1] ", "2026-12-07T14:01:04"},
    };
    for (const auto& [prefix, time] : cases) {
        INFO(prefix);
        CHECK(read_all({prefix + failure}) == Lines{time + " " + failure});
    }
}

TEST_CASE("a split entry gives the mainlog's line, once, from its last part", "[exim_log_reader]") {
    const std::string head = failure.substr(0, 30), tail = failure.substr(30);
    for (const std::string date : {"Dec  7 14:01:05", "2026-12-07T14:01:05.000001+00:00"}) {
        INFO(date);
        CHECK(read_all({date + " mx1 exim[9]: [1/2] [9] " + head,
                        date + " mx1 exim[8]: 2026-12-07 14:01:05 other",
                        date + " mx1 exim[9]: [2/2] " + tail}) ==
              Lines{"part", "2026-12-07T14:01:05 other", "2026-12-07T14:01:05 " + failure});
        // With Exim's own timestamp inside the first part.
        CHECK(read_all({date + " mx1 exim[9]: [1/2] 2026-12-07 14:01:02 [9] " + head,
                        date + " mx1 exim[9]: [2/2] " + tail}) ==
              Lines{"part", "2026-12-07T14:01:02 " + failure});
    }
}

TEST_CASE("a continuation is never read as a line of its own", "[exim_log_reader]") {
    // Part 2's text is the middle of an entry: client text, here shaped as a
    // whole failure line of a bystander. Its first part is lost.
    CHECK(read_all({"Dec  7 14:01:05 mx1 exim[9]: [2/2] 2026-12-07 14:01:05 " + failure,
                    "2026-12-07T14:01:05+00:00 mx1 exim[9]: [2/2] " + failure,
                    "Dec  7 14:01:05 mx1 exim[9]: [2\\3] " + failure}) ==
          Lines{"part", "part", "part"});
    // After a newline the entry's further lines are never matched.
    CHECK(read_all({"Dec  7 14:01:05 mx1 exim[9]: [1\\3] H=(x) [192.0.2.5] rejected after DATA",
                    "Dec  7 14:01:05 mx1 exim[9]: [2\\3] " + failure,
                    "Dec  7 14:01:05 mx1 exim[9]: [3/3] 2026-12-07 14:01:05 " + failure}) ==
          Lines{"2026-12-07T14:01:05 H=(x) [192.0.2.5] rejected after DATA", "part", "part"});
}

TEST_CASE("mainlog lines still read while a split entry waits", "[exim_log_reader]") {
    CHECK(read_all({"Dec  7 14:01:05 mx1 exim[9]: [1/2] ab", "2026-12-07 14:01:05 [3] " + failure,
                    "Dec  7 14:01:05 mx1 exim[9]: [2/2] c", "Dec  7 14:01:05 mx1 sshd[9]: x"}) ==
          Lines{"part", "2026-12-07T14:01:05 " + failure, "2026-12-07T14:01:05 abc", "untimed"});
}

TEST_CASE("a December syslog file read in January", "[exim_log_reader]") {
    const std::int64_t january_2 = days_from_civil(2027, 1, 2) * 86400;
    CHECK(read_all({"Dec 31 23:59:59 mx1 exim[1]: a", "Jan  1 00:00:01 mx1 exim[1]: b"},
                   january_2) == Lines{"2026-12-31T23:59:59 a", "2027-01-01T00:00:01 b"});
}

TEST_CASE("dropped parts are counted where they drop, and at the end", "[exim_log_reader]") {
    EximLogReader reader([] { return december_7; });
    CHECK(reader.read("Dec  7 14:01:05 mx1 exim[9]: [1/3] a").kind == EximLogReader::Kind::part);
    CHECK(reader.read("Dec  7 14:01:05 mx1 exim[9]: [2/3] b").dropped_parts == 0);
    CHECK(reader.read("Dec  7 14:01:05 mx1 exim[9]: whole").dropped_parts == 2);
    CHECK(reader.read("Dec  7 14:01:05 mx1 exim[9]: [1/2] a").kind == EximLogReader::Kind::part);
    CHECK(reader.finish() == 1);
}
