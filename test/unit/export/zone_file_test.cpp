#include "export/zone_file.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace exim_ban;
using exim_ban::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::string read(const fs::path& file) {
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace

TEST_CASE("replace_file writes a new file and replaces it whole, readable by all", "[dnsbl]") {
    TempDir dir;
    const fs::path zone = dir / "exim-ban.zone";
    REQUIRE_FALSE(replace_file(zone, "first\n"));
    CHECK(read(zone) == "first\n");
    struct stat before {};
    REQUIRE(::stat(zone.c_str(), &before) == 0);
    CHECK((before.st_mode & 0777) == 0644);

    REQUIRE_FALSE(replace_file(zone, "second\n"));
    CHECK(read(zone) == "second\n");
    struct stat after {};
    REQUIRE(::stat(zone.c_str(), &after) == 0);
    // A new inode: a reader that opened the old file still reads it whole.
    CHECK(after.st_ino != before.st_ino);
    // No temporary file is left beside it.
    CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator{}) == 1);
}

TEST_CASE("replace_file reports a directory it cannot write, and changes nothing", "[dnsbl]") {
    TempDir dir;
    const auto error = replace_file(dir / "missing" / "exim-ban.zone", "x\n");
    REQUIRE(error);
    CHECK(error->find("cannot create a file in") == 0);
    CHECK(error->find("No such file or directory") != std::string::npos);
}
