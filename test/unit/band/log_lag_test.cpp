#include "band/log_lag.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <sys/stat.h>

using namespace exim_ban;
using exim_ban::testing::TempDir;

namespace {

std::uint64_t inode_of(const std::filesystem::path& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_ino;
}

} // namespace

TEST_CASE("log lag: the bytes of the file at the path past the position", "[band]") {
    TempDir dir;
    const auto path = dir / "mainlog";
    std::ofstream(path) << std::string(100, 'x');
    const LogPosition position{path.string(), 0, inode_of(path), "", 40};
    const auto lag = log_lag(position);
    REQUIRE(lag);
    CHECK(lag->size == 100);
    CHECK(lag->bytes == 60);
}

TEST_CASE("log lag: none when the daemon keeps up or the file is shorter", "[band]") {
    TempDir dir;
    const auto path = dir / "mainlog";
    std::ofstream(path) << std::string(100, 'x');
    const std::uint64_t inode = inode_of(path);
    CHECK(log_lag({path.string(), 0, inode, "", 100})->bytes == 0);
    const auto truncated = log_lag({path.string(), 0, inode, "", 150});
    REQUIRE(truncated);
    CHECK(truncated->size == 100);
    CHECK(truncated->bytes == 0);
}

TEST_CASE("log lag: none while the path holds another file than the position's", "[band]") {
    TempDir dir;
    const auto path = dir / "mainlog";
    std::ofstream(dir / "mainlog.1") << "old\n";
    std::ofstream(path) << std::string(100, 'x');
    const auto lag = log_lag({path.string(), 0, inode_of(dir / "mainlog.1"), "", 4});
    REQUIRE(lag);
    CHECK(lag->size == 100);
    CHECK(lag->bytes == 0);
}

TEST_CASE("log lag: nothing for a path that cannot be stat()ed", "[band]") {
    TempDir dir;
    CHECK_FALSE(log_lag({(dir / "missing").string(), 0, 7, "", 40}));
}
