#include "core/journal_match.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

TEST_CASE("journalmatch words become alternatives of FIELD=VALUE terms", "[journal_match]") {
    const auto parsed = parse_journal_match(
        "  SYSLOG_IDENTIFIER=exim SYSLOG_IDENTIFIER=exim4\t+ _SYSTEMD_UNIT=exim4.service\n"
        "_COMM=exim  ");
    REQUIRE(parsed.match);
    using Terms = std::vector<std::string>;
    REQUIRE(parsed.match->alternatives.size() == 2);
    CHECK(parsed.match->alternatives[0] ==
          Terms{"SYSLOG_IDENTIFIER=exim", "SYSLOG_IDENTIFIER=exim4"});
    CHECK(parsed.match->alternatives[1] == Terms{"_SYSTEMD_UNIT=exim4.service", "_COMM=exim"});
    CHECK(
        parsed.match->text() ==
        "SYSLOG_IDENTIFIER=exim SYSLOG_IDENTIFIER=exim4 + _SYSTEMD_UNIT=exim4.service _COMM=exim");
}

TEST_CASE("a journalmatch value may hold '=' and ',' and be empty", "[journal_match]") {
    const auto parsed = parse_journal_match("_CMDLINE=/usr/sbin/exim4,-bd=x MESSAGE_ID=");
    REQUIRE(parsed.match);
    CHECK(parsed.match->alternatives.front() ==
          std::vector<std::string>{"_CMDLINE=/usr/sbin/exim4,-bd=x", "MESSAGE_ID="});
}

TEST_CASE("what is not a journalmatch says what to write", "[journal_match]") {
    for (const char* text :
         {"", "   ", "+ SYSLOG_IDENTIFIER=exim", "SYSLOG_IDENTIFIER=exim +", "A=1 + + B=2", "exim",
          "syslog_identifier=exim", "=exim", "1FIELD=x", "SYSLOG-IDENTIFIER=exim"}) {
        INFO(text);
        const auto parsed = parse_journal_match(text);
        CHECK_FALSE(parsed.match);
        CHECK_FALSE(parsed.error.empty());
    }
    CHECK_THAT(parse_journal_match("exim").error, Catch::Contains("\"exim\" is not FIELD=VALUE") &&
                                                      Catch::Contains("SYSLOG_IDENTIFIER=exim"));
    CHECK_THAT(parse_journal_match("A=1 +").error, Catch::Contains("ends the match"));
    CHECK_THAT(parse_journal_match("").error, Catch::Contains("no FIELD=VALUE"));
    CHECK(parse_journal_match(std::string(64, 'A') + "=x").match);
    CHECK_FALSE(parse_journal_match(std::string(65, 'A') + "=x").match);
}
