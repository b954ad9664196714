#include "core/exim_line.hpp"

#include <catch2/catch.hpp>

using exim_ban::read_date_time;
using exim_ban::split_exim_line;
using exim_ban::split_exim_text;

namespace {
std::string message_of(std::string_view line) {
    auto parsed = split_exim_line(line);
    return parsed ? std::string(parsed->message) : "(none)";
}
std::string time_of(std::string_view line) {
    auto parsed = split_exim_line(line);
    return parsed ? parsed->time.iso() : "(none)";
}
} // namespace

TEST_CASE("Exim's own line shapes", "[exim_line]") {
    CHECK(message_of("2026-11-23 17:01:48 AUTH nixed 192.0.2.1 587") == "AUTH nixed 192.0.2.1 587");
    CHECK(time_of("2026-11-23 17:01:48 AUTH nixed 192.0.2.1 587") == "2026-11-23T17:01:48");
    CHECK(message_of("2026-11-23 17:01:48 [4711] H=[192.0.2.1] x") == "H=[192.0.2.1] x");
    CHECK(message_of("2026-11-23 17:01:48.123 [4711] msg") == "msg");
    CHECK(split_exim_line("2026-11-23 17:01:48.123 msg")->time.milliseconds == 123);
    auto offset = split_exim_line("2026-11-23 17:01:48 +0100 msg");
    REQUIRE(offset);
    CHECK(offset->message == "msg");
    CHECK(*offset->time.utc_offset == 3600);
    CHECK(*offset->time.utc_seconds() == offset->time.wall_seconds - 3600);
    CHECK(*split_exim_line("2026-11-23 17:01:48 -0530 msg")->time.utc_offset == -19800);
    CHECK_FALSE(split_exim_line("2026-11-23 17:01:48 msg")->time.utc_offset);
}

TEST_CASE("syslog and journal prefixes", "[exim_line]") {
    CHECK(message_of("mail.example.com exim[3751842]: 2021-07-17 23:20:49 plain_server "
                     "authenticator failed") == "plain_server authenticator failed");
    CHECK(time_of("mail.example.com exim[3751842]: 2021-07-17 23:20:49 plain_server x") ==
          "2021-07-17T23:20:49");
    CHECK(
        message_of(
            "2019-10-22 03:39:17 mx1.fqdn.local exim[29786]: dovecot_login authenticator failed") ==
        "dovecot_login authenticator failed");
    CHECK(message_of("2016-04-01 11:08:00 info exim[8003]: [8003] SMTP protocol error") ==
          "SMTP protocol error");
    CHECK(message_of("Nov 23 17:01:48 mx1 exim4[12]: 2026-11-23 17:01:48 msg") == "msg");
}

TEST_CASE("lines without an Exim timestamp give nothing", "[exim_line]") {
    for (const char* bad :
         {"", "2026-11-23", "2026-11-23 17:01:48", "2026-11-23 17:01:48 ", "2026-13-01 00:00:00 m",
          "2026-02-30 00:00:00 m", "2026-11-23 24:00:00 m", "2026-11-23 17:61:00 m",
          "2026-11-23T17:01:48 m", "x 2026-11-23 17:01:48 m", "mx1 sshd[1]: 2026-11-23 17:01:48 m",
          "2026-11-23 17:01:48  double space"}) {
        INFO(bad);
        CHECK_FALSE(split_exim_line(bad));
    }
    CHECK(split_exim_line("2024-02-29 00:00:00 leap day"));
}

TEST_CASE("times print as fail2ban annotates them", "[exim_line]") {
    CHECK(time_of("1999-12-31 23:59:59 m") == "1999-12-31T23:59:59");
    CHECK(time_of("2000-03-01 00:00:00 m") == "2000-03-01T00:00:00");
    CHECK(split_exim_line("1970-01-02 00:00:01 m")->time.wall_seconds == 86401);
}

TEST_CASE("what Exim passes to syslog: its timestamp and pid are optional", "[exim_line]") {
    auto with_time = split_exim_text("2026-11-23 17:01:48.250 +0100 [4711] H=x msg");
    REQUIRE(with_time);
    REQUIRE(with_time->time);
    CHECK(with_time->time->iso() == "2026-11-23T17:01:48");
    CHECK(with_time->time->milliseconds == 250);
    CHECK(with_time->message == "H=x msg");
    auto without = split_exim_text("[4711] H=x msg");
    REQUIRE(without);
    CHECK_FALSE(without->time);
    CHECK(without->message == "H=x msg");
    CHECK(split_exim_text("H=x msg")->message == "H=x msg");
    for (const char* bad :
         {"", " lead", "[4711] ", "[4711]x", "2026-11-23 17:01:48 ", "2026-11-23 17:01:48"}) {
        INFO(bad);
        CHECK_FALSE(split_exim_text(bad));
    }
}

TEST_CASE("dates and times with either separator", "[exim_line]") {
    std::size_t pos = 2;
    const auto rfc3339 = read_date_time("> 2026-12-07T14:01:05.123456+00:00", pos, 'T');
    REQUIRE(rfc3339);
    CHECK(rfc3339->iso() == "2026-12-07T14:01:05");
    CHECK(rfc3339->milliseconds == 123);
    CHECK(pos == 28);
    pos = 0;
    CHECK_FALSE(read_date_time("2026-12-07 14:01:05", pos, 'T'));
    CHECK(pos == 0);
    CHECK(read_date_time("2026-12-07 14:01:05", pos, ' '));
    CHECK(pos == 19);
}
