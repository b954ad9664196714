#include "config/log_paths.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fstream>

using namespace exim_ban;
using exim_ban::testing::TempDir;

TEST_CASE("logpaths: globs expand in name order, plain paths stay even when missing", "[band]") {
    TempDir dir;
    for (const char* name : {"main.log.b", "main.log.a", "reject.log"})
        std::ofstream(dir / name) << "x\n";
    const std::string base = dir.path().string() + "/";
    const ExpandedLogPaths expanded = expand_log_paths(
        {base + "main.log.*", base + "missing/mainlog", base + "main.log.a", base + "nothing.*"});
    CHECK(expanded.paths == std::vector<std::string>{base + "main.log.a", base + "main.log.b",
                                                     base + "missing/mainlog"});
    REQUIRE(expanded.warnings.size() == 1);
    CHECK(expanded.warnings[0] ==
          "logpath " + base + "nothing.* matches no file now; it is looked at again on reload");
}
