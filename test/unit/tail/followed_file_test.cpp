#include "support/temp_dir.hpp"
#include "tail/followed_file.hpp"

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

using namespace exim_ban;
namespace fs = std::filesystem;

namespace {

// Writes `content` to a file `mainlog` in `dir`; returns its path.
std::string written_log(const exim_ban::testing::TempDir& dir, const std::string& content) {
    const std::string path = (dir / "mainlog").string();
    std::ofstream(path) << content;
    return path;
}

} // namespace

TEST_CASE("a missing path or a directory or a FIFO is no followed file", "[tail]") {
    exim_ban::testing::TempDir dir;
    CHECK(FollowedFile::open((dir / "missing").string()).error == ENOENT);
    CHECK(FollowedFile::open((dir / "missing" / "deeper").string()).error == ENOENT);
    CHECK(FollowedFile::open(dir.path().string()).error == not_regular_file);
    const std::string fifo = (dir / "fifo").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // Would block for a writer without O_NONBLOCK.
    CHECK(FollowedFile::open(fifo).error == not_regular_file);
    CHECK(describe_file_error(not_regular_file) == "not a regular file");
    CHECK(describe_file_error(ENOENT) == "No such file or directory");
}

TEST_CASE("a followed file is read at offsets and knows its identity", "[tail]") {
    exim_ban::testing::TempDir dir;
    const std::string path = written_log(dir, "hello\nworld\n");
    FileOpening opened = FollowedFile::open(path);
    REQUIRE(opened.file);
    const FollowedFile& file = *opened.file;
    CHECK(file.head() == hash_head("hello\nworld\n"));
    CHECK(file.status().size == 12);
    CHECK(file.status().links == 1);
    const PathLookup at_path = look_up_path(path);
    CHECK(at_path.id == file.id());
    CHECK(at_path.size == 12);
    CHECK(look_up_path((dir / "missing").string()).error == ENOENT);

    char buffer[16];
    const FileRead read = file.read_at(6, buffer, sizeof buffer);
    CHECK(read.error == 0);
    CHECK(std::string(buffer, read.bytes) == "world\n");
    CHECK(file.read_at(12, buffer, sizeof buffer).bytes == 0);
}

TEST_CASE("the head hash covers at most 256 bytes and tells a rewritten file", "[tail]") {
    exim_ban::testing::TempDir dir;
    const std::string path = written_log(dir, "short\n");
    FileOpening opened = FollowedFile::open(path);
    REQUIRE(opened.file);
    FollowedFile& file = *opened.file;
    CHECK(file.head().bytes == 6);

    const std::string more(300, 'x');
    std::ofstream(path, std::ios::app) << more;
    CHECK(file.head_unchanged());
    file.retake_head(file.status().size);
    CHECK(file.head() == hash_head(("short\n" + more).substr(0, head_hash_bytes)));
    CHECK(file.hash_first(4) == hash_head("shor"));
    CHECK_FALSE(file.hash_first(head_hash_bytes + 1));

    // Truncated in place and written again past the old head.
    std::ofstream(path, std::ios::trunc) << std::string(400, 'y');
    CHECK_FALSE(file.head_unchanged());
    std::filesystem::resize_file(path, 10);
    CHECK_FALSE(file.head_unchanged());
    CHECK_FALSE(file.hash_first(11));

    fs::remove(path);
    CHECK(file.status().links == 0);
    CHECK(file.status().size == 10);
}
