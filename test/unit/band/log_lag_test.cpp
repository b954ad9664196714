#include "band/log_lag.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <utility>

using namespace exim_ban;
using exim_ban::testing::TempDir;

namespace {

std::uint64_t inode_of(const std::filesystem::path& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_ino;
}

} // namespace

TEST_CASE("log lag: the bytes of the file at the path past the position, none when the "
          "daemon keeps up or the file is shorter",
          "[band]") {
    TempDir dir;
    const auto path = dir / "mainlog";
    std::ofstream(path) << std::string(100, 'x');
    const std::uint64_t inode = inode_of(path);
    for (const auto& [offset, behind] :
         {std::pair<std::uint64_t, std::uint64_t>{40, 60}, {100, 0}, {150, 0}}) {
        const auto lag = log_lag({path.string(), 0, inode, "", offset});
        REQUIRE(lag);
        CHECK(lag->size == 100);
        CHECK(lag->bytes == behind);
    }
}

TEST_CASE("log lag: none while the path holds another file than the position's", "[band]") {
    TempDir dir;
    std::ofstream(dir / "mainlog.1") << "old\n";
    std::ofstream(dir / "mainlog") << std::string(100, 'x');
    const auto lag = log_lag({(dir / "mainlog").string(), 0, inode_of(dir / "mainlog.1"), "", 4});
    REQUIRE(lag);
    CHECK(lag->size == 100);
    CHECK(lag->bytes == 0);
}

TEST_CASE("log lag: nothing for a path that cannot be stat()ed", "[band]") {
    TempDir dir;
    CHECK_FALSE(log_lag({(dir / "missing").string(), 0, 7, "", 40}));
}
