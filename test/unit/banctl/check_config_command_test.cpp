#include "banctl/check_config_command.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace exim_ban;

TEST_CASE("check-config prints effective settings and their origins, or the error", "[config]") {
    const exim_ban::testing::TempDir dir;
    dir.link_shipped_filters(EXIM_BAN_FILTERS_DIR);
    std::ofstream(dir / "exim-ban.conf")
        << "[DEFAULT]\nbantime = 2h ; two hours\n"
           "[exim]\nenabled = true\nlogpath = /var/log/exim4/mainlog\n";
    std::ostringstream out, err;
    REQUIRE(run_check_config(dir / "exim-ban.conf", out, err) == 0);
    CHECK_THAT(out.str(),
               Catch::Contains("OK, 1 jail(s), 1 enabled") && Catch::Contains("bantime = 2h") &&
                   Catch::Contains("exim-ban.conf:2") && Catch::Contains("findtime = 10m") &&
                   Catch::Contains("built-in default"));

    std::ofstream(dir / "exim-ban.local") << "[exim]\nfilter = exim[mode=fast]\n";
    std::ostringstream out2, err2;
    CHECK(run_check_config(dir / "exim-ban.conf", out2, err2) == 1);
    CHECK_THAT(err2.str(),
               Catch::Contains("exim-ban.local:2: [exim] filter = exim[mode=fast] does not load") &&
                   Catch::Contains("<mdre-fast> names nothing"));
}

TEST_CASE("check-config refuses a journal jail without a match, at its logpath", "[config]") {
    const exim_ban::testing::TempDir dir;
    dir.link_shipped_filters(EXIM_BAN_FILTERS_DIR);
    std::ofstream(dir / "exim-ban.conf") << "[exim]\nenabled = true\nlogpath = journal\n";
    std::ostringstream out, err;
    CHECK(run_check_config(dir / "exim-ban.conf", out, err) == 1);
    CHECK_THAT(err.str(), Catch::Contains("exim-ban.conf:3: [exim] logpath = journal") &&
                              Catch::Contains("journalmatch = SYSLOG_IDENTIFIER=exim"));

    std::ofstream(dir / "exim-ban.local") << "[exim]\njournalmatch = SYSLOG_IDENTIFIER=exim\n";
    std::ostringstream out2, err2;
    REQUIRE(run_check_config(dir / "exim-ban.conf", out2, err2) == 0);
    CHECK_THAT(out2.str(), Catch::Contains("journalmatch = SYSLOG_IDENTIFIER=exim") &&
                               Catch::Contains("exim-ban.local:2"));
}
