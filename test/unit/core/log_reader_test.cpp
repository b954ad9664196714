#include "core/log_reader.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace exim_ban;

namespace {

const std::int64_t december_8 = days_from_civil(2026, 12, 8) * 86400;

// Each line read by a reader of `format`: "TIME MESSAGE" or "-".
std::vector<std::string> read_all(LogFormat format, const std::vector<std::string>& lines) {
    LogReader reader(format, [] { return december_8; });
    CHECK(reader.format() == format);
    std::vector<std::string> out;
    for (const auto& line : lines) {
        const LogRead read = reader.read(line);
        out.push_back(read.kind == LogRead::Kind::entry
                          ? read.entry.time.iso() + " " + std::string(read.entry.message)
                          : "-");
    }
    return out;
}

using Lines = std::vector<std::string>;

// A mail.log that Exim and Dovecot share.
const Lines shared_log = {
    "Dec  7 14:01:05 mx1 exim[4711]: 2026-12-07 14:01:05 login authenticator failed for (x) "
    "[203.0.113.1]: 535 Incorrect authentication data (set_id=bob)",
    "Dec  7 14:01:06 mx1 dovecot: imap-login: Disconnected (auth failed, 1 attempts in 2 secs): "
    "user=<bob>, rip=203.0.113.2",
    "Dec  7 14:01:07 mx1 postfix/smtpd[1]: connect from x[203.0.113.3]",
};

} // namespace

TEST_CASE("a shared log: each format's reader takes its own program's lines", "[log_reader]") {
    CHECK(read_all(LogFormat::exim, shared_log) ==
          Lines{"2026-12-07T14:01:05 login authenticator failed for (x) [203.0.113.1]: 535 "
                "Incorrect authentication data (set_id=bob)",
                "-", "-"});
    CHECK(read_all(LogFormat::dovecot, shared_log) ==
          Lines{"-",
                "2026-12-07T14:01:06 imap-login: Disconnected (auth failed, 1 attempts in 2 "
                "secs): user=<bob>, rip=203.0.113.2",
                "-"});
}

TEST_CASE("Dovecot's dates without a year move forward across New Year", "[log_reader]") {
    CHECK(read_all(LogFormat::dovecot,
                   {"Dec 31 23:59:59 imap-login: a", "Jan  1 00:00:01 imap-login: b"}) ==
          Lines{"2025-12-31T23:59:59 imap-login: a", "2026-01-01T00:00:01 imap-login: b"});
}

TEST_CASE("log formats by name", "[log_reader]") {
    CHECK(parse_log_format("exim") == LogFormat::exim);
    CHECK(parse_log_format("dovecot") == LogFormat::dovecot);
    CHECK_FALSE(parse_log_format("Dovecot"));
    CHECK_FALSE(parse_log_format(""));
    CHECK(log_format_name(LogFormat::dovecot) == "dovecot");
    CHECK(log_format_name(LogFormat::exim) == "exim");
}
