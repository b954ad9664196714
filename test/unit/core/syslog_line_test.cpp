#include "core/syslog_line.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

TEST_CASE("rsyslog's traditional format: a date without a year", "[syslog_line]") {
    const auto line = split_syslog_line("Dec  7 14:01:05 mx1 exim[4711]: H=(x) [192.0.2.1] msg");
    REQUIRE(line);
    REQUIRE(line->yearless_time);
    CHECK_FALSE(line->time);
    CHECK(line->yearless_time->month == 12);
    CHECK(line->yearless_time->day == 7);
    CHECK(line->yearless_time->second_of_day == 14 * 3600 + 60 + 5);
    CHECK(line->tag.host == "mx1");
    CHECK(line->tag.ident == "exim");
    CHECK(line->tag.pid == 4711u);
    CHECK_FALSE(line->part);
    CHECK(line->text == "H=(x) [192.0.2.1] msg");
    CHECK(split_syslog_line("Jan 17 00:00:00 h exim4: m")->yearless_time->day == 17);
    CHECK(split_syslog_line("Jan 07 00:00:00 h exim4: m")->yearless_time->day == 7);
}

TEST_CASE("rsyslog's RFC 3339 format, as the journal source writes it too", "[syslog_line]") {
    const auto line =
        split_syslog_line("2026-12-07T14:01:05.123456+00:00 mx1 exim[12]: 2026-12-07 14:01:05 m");
    REQUIRE(line);
    REQUIRE(line->time);
    CHECK_FALSE(line->yearless_time);
    CHECK(line->time->iso() == "2026-12-07T14:01:05");
    CHECK(line->time->milliseconds == 123);
    CHECK(line->time->utc_offset == 0);
    CHECK(line->text == "2026-12-07 14:01:05 m");
    CHECK(split_syslog_line("2026-12-07T14:01:05-05:30 h exim[1]: m")->time->utc_offset ==
          -(5 * 3600 + 30 * 60));
    CHECK(split_syslog_line("2026-12-07T14:01:05Z h exim[1]: m")->time->utc_offset == 0);
    // journalctl -o short-iso-precise writes the offset without its colon.
    CHECK(split_syslog_line("2026-12-07T14:01:05.123456-0530 h exim[1]: m")->time->utc_offset ==
          -(5 * 3600 + 30 * 60));
    const auto nanoseconds = split_syslog_line("2026-12-07T14:01:05.123456789Z h exim[1]: m");
    REQUIRE(nanoseconds);
    CHECK(nanoseconds->time->milliseconds == 123);
    CHECK(nanoseconds->text == "m");
}

TEST_CASE("Exim's marks on the parts of an entry it split", "[syslog_line]") {
    const auto first = split_syslog_line("Dec  7 14:01:05 h exim[9]: [1/3] [9] long text");
    REQUIRE(first);
    REQUIRE(first->part);
    CHECK(first->part->index == 1);
    CHECK(first->part->total == 3);
    CHECK_FALSE(first->part->ends_line);
    CHECK(first->text == "[9] long text");
    const auto at_newline = split_syslog_line("Dec  7 14:01:05 h exim[9]: [1\\2] Warning: x");
    REQUIRE(at_newline->part);
    CHECK(at_newline->part->ends_line);
    // A continuation keeps its own leading space, and may be empty.
    CHECK(split_syslog_line("Dec  7 14:01:05 h exim[9]: [2/2]  Suggested")->text == " Suggested");
    CHECK(split_syslog_line("Dec  7 14:01:05 h exim[9]: [2\\3] ")->text.empty());
    // Not a mark: the text stays whole.
    for (const char* text :
         {"[0/2] x", "[3/2] x", "[1/1] x", "[1/2]x", "[1-2] x", "[4711] x", "[1/2 x", "[/2] x"}) {
        INFO(text);
        const std::string whole = std::string("Dec  7 14:01:05 h exim[9]: ") + text;
        const auto line = split_syslog_line(whole); // views into `whole`
        REQUIRE(line);
        CHECK_FALSE(line->part);
        CHECK(line->text == text);
    }
}

TEST_CASE("lines that are not Exim's through syslog give nothing", "[syslog_line]") {
    for (const char* bad : {
             "",
             "Dec  7 14:01:05 mx1 sshd[1]: Failed password for root from 192.0.2.1",
             "Dec  7 14:01:05 mx1 postfix/smtpd[1]: x",
             "Dez  7 14:01:05 mx1 exim[1]: x",
             "Dec 32 14:01:05 mx1 exim[1]: x",
             "Dec  7 24:01:05 mx1 exim[1]: x",
             "Dec  7 14:01:05 exim[1]: x",
             "Dec  7 14:01:05 mx1 exim[]: x",
             "Dec  7 14:01:05 mx1 exim[1] x",
             "Dec  7 14:01:05 mx1 exim[1]:x",
             "Dec  7 14:01:05 mx1 exim[99999999999]: x",
             "2026-12-07 14:01:05 mx1 exim[1]: x",
             "2026-12-07T14:01:05 mx1 exim[1]: x",
             "2026-12-07T14:01:05+00 mx1 exim[1]: x",
             "2026-12-07T14:01:0512+00:00 mx1 exim[1]: x",
             "2026-02-30T14:01:05Z mx1 exim[1]: x",
             "mx1 exim[1]: 2026-12-07 14:01:05 x",
         }) {
        INFO(bad);
        CHECK_FALSE(split_syslog_line(bad));
    }
}
