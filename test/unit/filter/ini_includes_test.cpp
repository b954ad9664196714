#include "core/load_error.hpp"
#include "filter/ini_includes.hpp"
#include "support/in_memory_files.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using exim_ban::testing::InMemoryFiles;

TEST_CASE("before, the file, after: a later file overrides an earlier one", "[includes]") {
    InMemoryFiles files;
    files.add("/f/main.conf", "[INCLUDES]\nbefore = common.conf\nafter = main.local\n"
                              "[Definition]\nx = main\ny = main\n");
    files.add("/f/common.conf", "[Definition]\nx = common\ny = common\nz = common\n");
    files.add("/f/main.local", "[Definition]\ny = local\n");
    FilterSections sections;
    IniIncludeReader reader(files, sections);
    reader.read("/f/main.conf", true, "");
    CHECK(join_lines(sections.interpolated("Definition", "x")) == "main");
    CHECK(join_lines(sections.interpolated("Definition", "y")) == "local");
    CHECK(join_lines(sections.interpolated("Definition", "z")) == "common");
    CHECK(reader.files_read() ==
          std::vector<std::filesystem::path>{"/f/common.conf", "/f/main.conf", "/f/main.local"});
    CHECK_FALSE(sections.has_section("INCLUDES"));
}

TEST_CASE("a missing .local include is fine, a missing .conf or a loop is not", "[includes]") {
    InMemoryFiles files;
    files.add("/f/a.conf", "[INCLUDES]\nafter = a.local\n[X]\nk = v\n");
    files.add("/f/b.conf", "[INCLUDES]\nbefore = gone.conf\n");
    files.add("/f/c.conf", "[INCLUDES]\nbefore = d.conf\n");
    files.add("/f/d.conf", "[INCLUDES]\nbefore = c.conf\n");
    files.add("/f/e.conf", "[INCLUDES]\nwith = x.conf\n");
    FilterSections sections;
    IniIncludeReader reader(files, sections);
    CHECK_NOTHROW(reader.read("/f/a.conf", true, ""));
    CHECK_NOTHROW(reader.read("/f/none.conf", false, ""));
    CHECK_THROWS_WITH(reader.read("/f/none.conf", true, ""), Catch::Contains("no such file"));
    CHECK_THROWS_WITH(IniIncludeReader(files, sections).read("/f/b.conf", true, ""),
                      Catch::Contains("/f/b.conf:2: includes /f/gone.conf, which does not exist"));
    CHECK_THROWS_WITH(IniIncludeReader(files, sections).read("/f/c.conf", true, ""),
                      Catch::Contains("an include loop"));
    CHECK_THROWS_WITH(IniIncludeReader(files, sections).read("/f/e.conf", true, ""),
                      Catch::Contains("knows only \"before\" and \"after\""));
}
