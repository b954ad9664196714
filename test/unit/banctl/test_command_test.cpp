#include "banctl/test_command.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

using namespace exim_ban;

TEST_CASE("exim-banctl test on fail2ban's log: JSON and exit codes", "[command]") {
    TestCommandOptions options;
    options.log_path = std::string(EXIM_BAN_TEST_DATA_DIR) + "/fail2ban/logs/exim";
    options.filters_dir = EXIM_BAN_FILTERS_DIR;
    options.json = true;
    std::ostringstream out, err;
    REQUIRE(run_test_command(options, out, err) == 0);
    const auto json = nlohmann::json::parse(out.str());
    CHECK(json["lines"] == 128);
    CHECK(json["matched"] == 20);
    CHECK(json["hosts"]["192.0.2.6"] == 1);
    CHECK_FALSE(json["hosts"].contains("8.8.8.8"));
    CHECK(err.str().empty());

    options.filter = "exim[mode=nonsense]";
    std::ostringstream out2, err2;
    CHECK(run_test_command(options, out2, err2) == 1);
    CHECK(out2.str().empty());
    CHECK_THAT(err2.str(),
               Catch::StartsWith("exim-banctl: ") && Catch::Contains("<mdre-nonsense>"));

    options.filter = "exim";
    options.log_path = "/nonexistent";
    std::ostringstream out3, err3;
    CHECK(run_test_command(options, out3, err3) == 1);
    CHECK(out3.str().empty());
    CHECK_THAT(err3.str(), Catch::Contains("cannot open /nonexistent"));
}

TEST_CASE("filters directory: explicit, installed, else the source tree", "[command]") {
    CHECK(default_filters_dir("/some/where") == "/some/where");
    const auto chosen = default_filters_dir("");
    CHECK((chosen == "/etc/exim-ban/filters.d" || chosen == EXIM_BAN_FILTERS_DIR));
}

TEST_CASE("test with bans replays the hits through a jail's policy from a config", "[command]") {
    const exim_ban::testing::TempDir dir;
    dir.link_shipped_filters(EXIM_BAN_FILTERS_DIR);
    std::ofstream(dir / "exim-ban.conf")
        << "[DEFAULT]\nignoreself = false\n"
           "[exim]\nenabled = true\nlogpath = /var/log/exim4/mainlog\n"
           "filter = exim\nmaxretry = 2\nfindtime = 1m\nbantime = 10m\n"
           "ignoreip = 192.0.2.9\n";
    std::ofstream(dir / "mainlog")
        << "2026-11-23 10:00:00 AUTH nixed 203.0.113.5 587 connect\n"
           "2026-11-23 10:00:30 AUTH nixed 203.0.113.5 587 connect\n"
           "2026-11-23 10:00:00 AUTH nixed 192.0.2.9 587 connect\n"
           "2026-11-23 10:00:01 AUTH nixed 192.0.2.9 587 connect\n"
           "2026-11-23 10:00:00 AUTH nixed 203.0.113.6 587 connect\n"
           "2026-11-23 10:01:00 AUTH nixed 203.0.113.6 587 connect\n"
           "2026-11-23 10:00:00 AUTH nixed 2001:db8:1:2::1 587 connect\n"
           "2026-11-23 10:00:05 AUTH nixed 2001:db8:1:2::2 587 connect\n";

    TestCommandOptions options;
    options.log_path = (dir / "mainlog").string();
    options.config = dir / "exim-ban.conf";
    options.bans = true;
    options.json = true;
    std::ostringstream out, err;
    REQUIRE(run_test_command(options, out, err) == 0);
    INFO(err.str());
    const auto json = nlohmann::json::parse(out.str());
    REQUIRE(json["bans"].size() == 2);
    CHECK(json["bans"][0] == nlohmann::json{{"host", "203.0.113.5"},
                                            {"at", "2026-11-23T10:00:30"},
                                            {"duration", 600},
                                            {"reason", "maxretry"}});
    CHECK(json["bans"][1]["host"] == "2001:db8:1:2::/64"); // two addresses of one /64
    // 203.0.113.6: its hits are exactly findtime apart; 192.0.2.9 is ignored.
    CHECK(json["hosts"]["192.0.2.9"] == 2);

    options.jail = "nosuch";
    std::ostringstream out2, err2;
    CHECK(run_test_command(options, out2, err2) == 1);
    CHECK_THAT(err2.str(), Catch::Contains("has no jail [nosuch] (jails: exim)"));
}

TEST_CASE("test --jail without LOGFILE replays every source of the jail, hits in log time",
          "[command]") {
    const exim_ban::testing::TempDir dir;
    dir.link_shipped_filters(EXIM_BAN_FILTERS_DIR);
    const std::string first = (dir / "mainlog").string();
    const std::string second = (dir / "syslog").string();
    std::ofstream(dir / "exim-ban.conf") << "[DEFAULT]\nignoreself = false\n"
                                            "[mail]\nenabled = true\nlogpath = "
                                         << first
                                         << "\nfilter = exim\nmaxretry = 3\nfindtime = 1m\n"
                                            "[mail/second]\nlogpath = "
                                         << second << "\nfilter = exim\n";
    // Neither log alone holds maxretry hits within findtime; together they do,
    // once their hits are taken in log time (the second log's hit is the
    // oldest).
    std::ofstream(first) << "2026-11-23 10:00:40 AUTH nixed 203.0.113.5 587 connect\n"
                            "2026-11-23 10:01:50 AUTH nixed 203.0.113.5 587 connect\n";
    std::ofstream(second) << "2026-11-23 10:00:10 AUTH nixed 203.0.113.5 587 connect\n"
                             "2026-11-23 10:00:50 AUTH nixed 203.0.113.5 587 connect\n";
    TestCommandOptions options;
    options.config = dir / "exim-ban.conf";
    options.jail = "mail";
    options.json = true;
    options.bans = true;
    std::ostringstream out, err;
    REQUIRE(run_test_command(options, out, err) == 0);
    const auto json = nlohmann::json::parse(out.str());
    CHECK(json["lines"] == 4);
    CHECK(json["hosts"]["203.0.113.5"] == 4);
    REQUIRE(json["bans"].size() == 1);
    CHECK(json["bans"][0]["at"] == "2026-11-23T10:00:50");

    // One LOGFILE cannot say which of the two filters it is for.
    options.log_path = first;
    std::ostringstream out2, err2;
    CHECK(run_test_command(options, out2, err2) == 1);
    CHECK_THAT(err2.str(), Catch::Contains("jail [mail] has 2 sources"));
}
