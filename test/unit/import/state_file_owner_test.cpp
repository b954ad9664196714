#include "import/state_file_owner.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace exim_ban;

namespace {

struct Owner {
    uid_t uid;
    gid_t gid;
    bool operator==(const Owner&) const = default;
};

Owner owner_of(const std::filesystem::path& path) {
    struct stat status {};
    REQUIRE(::lstat(path.c_str(), &status) == 0);
    return {status.st_uid, status.st_gid};
}

void touch(const std::filesystem::path& path) {
    std::ofstream(path) << "x";
}

} // namespace

TEST_CASE("the database files made by root go to the owner of their directory", "[import]") {
    if (::geteuid() != 0) {
        WARN("not root: chown cannot be checked");
        return;
    }
    char pattern[] = "/tmp/state-file-owner.XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    const std::filesystem::path directory = pattern;
    const Owner daemon{65534, 65534};
    REQUIRE(::chown(directory.c_str(), daemon.uid, daemon.gid) == 0);
    touch(directory / "exim-ban.db");
    touch(directory / "exim-ban.db-wal");
    // A link planted where -shm goes: the link changes hands, not the
    // root-owned file it names.
    touch(directory / "elsewhere");
    std::filesystem::create_symlink(directory / "elsewhere", directory / "exim-ban.db-shm");

    CHECK(hand_database_to_directory_owner(directory / "exim-ban.db").empty());
    CHECK(owner_of(directory / "exim-ban.db") == daemon);
    CHECK(owner_of(directory / "exim-ban.db-wal") == daemon);
    CHECK(owner_of(directory / "exim-ban.db-shm") == daemon);
    CHECK(owner_of(directory / "elsewhere") == Owner{0, 0});
    std::filesystem::remove_all(directory);
}

TEST_CASE("database files that do not exist yet are no failure", "[import]") {
    char pattern[] = "/tmp/state-file-owner.XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    CHECK(hand_database_to_directory_owner(std::filesystem::path(pattern) / "exim-ban.db").empty());
    std::filesystem::remove_all(pattern);
}
