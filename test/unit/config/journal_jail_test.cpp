#include "config/config_loader.hpp"
#include "config/journal_jail.hpp"
#include "support/in_memory_files.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using exim_ban::testing::InMemoryFiles;

namespace {

Config load(const std::string& jail) {
    InMemoryFiles files;
    files.add("/etc/exim-ban/filters.d/exim.conf", "[Definition]\nfailregex = ^x <HOST>$\n");
    files.add("/etc/exim-ban/exim-ban.conf", "[exim]\nenabled = true\n" + jail);
    return load_config("/etc/exim-ban/exim-ban.conf", files, {});
}

LoadedFilter filter_with(const char* journalmatch) {
    LoadedFilter filter;
    filter.name = "exim[mode=normal]";
    if (journalmatch != nullptr) {
        filter.journalmatch = parse_journal_match(journalmatch).match;
        filter.journalmatch_origin = "/etc/exim-ban/filters.d/exim.conf:9";
    }
    return filter;
}

} // namespace

TEST_CASE("a journal jail's own journalmatch overrides its filter's, which serves when it has "
          "none",
          "[journal]") {
    struct Case {
        const char* jail;
        const char* match;
        const char* origin;
    };
    for (const Case& one :
         {Case{"logpath = journal\njournalmatch = _COMM=exim4\n", "_COMM=exim4",
               "/etc/exim-ban/exim-ban.conf:4"},
          Case{"logpath = journal\n", "_COMM=exim", "/etc/exim-ban/filters.d/exim.conf:9"}}) {
        INFO(one.jail);
        const Config config = load(one.jail);
        const auto chosen =
            journal_match_of(config, config.jails[0].sources.at(0), filter_with("_COMM=exim"));
        REQUIRE(chosen.match);
        CHECK(chosen.match->text() == one.match);
        CHECK(chosen.origin == one.origin);
    }
}

TEST_CASE("a journal jail without any match is an error at its logpath, saying what to write",
          "[journal]") {
    const Config config = load("logpath = journal\n");
    const auto chosen =
        journal_match_of(config, config.jails[0].sources.at(0), filter_with(nullptr));
    CHECK_FALSE(chosen.match);
    CHECK_THAT(chosen.error, Catch::StartsWith("/etc/exim-ban/exim-ban.conf:3: [exim] logpath = "
                                               "journal") &&
                                 Catch::Contains("journalmatch = SYSLOG_IDENTIFIER=exim"));
}

TEST_CASE("a jail of files reads no journal, whatever its filter says", "[journal]") {
    const Config config = load("logpath = /var/log/exim4/mainlog\n");
    const auto chosen =
        journal_match_of(config, config.jails[0].sources.at(0), filter_with("_COMM=exim"));
    CHECK_FALSE(chosen.match);
    CHECK(chosen.error.empty());
}
