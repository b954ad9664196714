#include "core/dovecot_line.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace exim_ban;

namespace {

const std::string text = "imap-login: Info: Disconnected (auth failed, 1 attempts in 2 secs): "
                         "user=<bob>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.1";

} // namespace

TEST_CASE("Dovecot's own log file: a date without a year, then the process", "[dovecot_line]") {
    // The line under test outlives the views into it.
    const std::string own = "Dec 07 23:43:54 " + text;
    const auto line = split_dovecot_line(own);
    REQUIRE(line);
    REQUIRE(line->yearless_time);
    CHECK(line->yearless_time->month == 12);
    CHECK(line->yearless_time->day == 7);
    CHECK(line->yearless_time->second_of_day == 23 * 3600 + 43 * 60 + 54);
    CHECK(line->text == text);
    CHECK(split_dovecot_line("Dec  7 23:43:54 auth-worker(80180): Info: x")->text ==
          "auth-worker(80180): Info: x");
}

TEST_CASE("a dated Dovecot line: ISO date, RFC 3339 syslog, TAI64N", "[dovecot_line]") {
    const auto iso = split_dovecot_line("2013-08-11 03:56:40 auth-worker(default): Info: x");
    REQUIRE(iso);
    CHECK(iso->time->iso() == "2013-08-11T03:56:40");
    CHECK_FALSE(iso->time->utc_offset);
    CHECK(iso->text == "auth-worker(default): Info: x");

    const std::string syslog = "2026-12-07T23:43:54.123456+01:00 mx1 dovecot[77]: " + text;
    const auto rfc = split_dovecot_line(syslog);
    REQUIRE(rfc);
    CHECK(rfc->time->iso() == "2026-12-07T23:43:54");
    CHECK(rfc->time->utc_offset == 3600);
    CHECK(rfc->text == text);

    // 0x4c91b044 = 2010-09-16 05:51:00 UTC.
    const std::string labelled = "@400000004c91b044077a9e94 " + text;
    const auto tai = split_dovecot_line(labelled);
    REQUIRE(tai);
    CHECK(tai->time->iso() == "2010-09-16T05:51:00");
    CHECK(tai->time->utc_offset == 0);
    CHECK(tai->time->milliseconds == 125);
    CHECK(tai->text == text);
}

TEST_CASE("syslog's Dovecot idents: dovecot, dovecot-auth, auth", "[dovecot_line]") {
    for (const std::string prefix :
         {"Dec 12 11:19:11 dunnart dovecot: ", "Jul 02 13:49:31 hostname dovecot[442]: ",
          "Apr 19 05:22:20 vm5 auth: ", "Apr 19 05:22:20 vm5 dovecot-auth[9]: "}) {
        INFO(prefix);
        const auto line = split_dovecot_line(prefix + "pam_unix(dovecot:auth): x");
        REQUIRE(line);
        CHECK(line->text == "pam_unix(dovecot:auth): x");
    }
}

TEST_CASE("another program's lines are not Dovecot's", "[dovecot_line]") {
    for (const std::string line : {
             "Dec  7 14:01:05 mx1 exim[4711]: 2026-12-07 14:01:05 login authenticator failed",
             "2026-12-07T14:01:05+00:00 mx1 exim[4711]: imap-login: Disconnected",
             "Dec  7 14:01:05 mx1 postfix/smtpd[9]: imap-login: x",
             "Dec  7 14:01:05 mx1 authd[9]: pam_unix(dovecot:auth): x",
             "Dec  7 14:01:05 mx1 sshd[9]: imap-login: x",
             "2026-11-23 10:00:00 H=(x) [203.0.113.1] rejected RCPT",
             "2026-11-23 10:00:00 login authenticator failed for (x) [203.0.113.1]: 535",
             "Dec  7 14:01:05 ",
             "imap-login: Info: Disconnected",
             "@400000004c91b04407 imap-login: x",
             "@zz0000004c91b044077a9e94 imap-login: x",
             "Dec 32 14:01:05 imap-login: x",
             "Dec  7 14:01:05  imap-login: x",
         }) {
        INFO(line);
        CHECK_FALSE(split_dovecot_line(line));
    }
}
