#include "store/database_quarantine.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>

using namespace exim_ban;
using exim_ban::testing::TempDir;

namespace {

std::tm moment() {
    std::tm when{};
    when.tm_year = 2026 - 1900;
    when.tm_mon = 10;
    when.tm_mday = 24;
    when.tm_hour = 10;
    when.tm_min = 15;
    when.tm_sec = 0;
    return when;
}

std::string read(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace

TEST_CASE("the quarantine name: the database's name, a timestamp, a number after the first",
          "[store]") {
    CHECK(quarantine_path("/var/lib/exim-ban/exim-ban.db", moment()) ==
          "/var/lib/exim-ban/exim-ban.db.corrupt-20261124T101500");
    CHECK(quarantine_path("state.db", moment(), 3) == "state.db.corrupt-20261124T101500-3");
}

TEST_CASE("the database and its companions move aside together; nothing is overwritten",
          "[store]") {
    TempDir dir;
    const auto db = dir / "state.db";
    std::ofstream(db) << "main";
    std::ofstream(db.string() + "-wal") << "wal";
    std::ofstream(db.string() + "-shm") << "shm";
    std::time_t now = std::time(nullptr);
    std::tm local{};
    ::localtime_r(&now, &local);

    const std::filesystem::path first = quarantine_database(db, now);
    CHECK(first == quarantine_path(db, local));
    CHECK(read(first) == "main");
    CHECK(read(first.string() + "-wal") == "wal");
    CHECK(read(first.string() + "-shm") == "shm");
    CHECK_FALSE(std::filesystem::exists(first.string() + "-journal"));
    for (const char* name : {"state.db", "state.db-wal", "state.db-shm"})
        CHECK_FALSE(std::filesystem::exists(dir / name));

    // A second one in the same second, without companions: a name of its own.
    std::ofstream(db) << "second";
    const std::filesystem::path second = quarantine_database(db, now);
    CHECK(second == quarantine_path(db, local, 2));
    CHECK(read(second) == "second");
    CHECK(read(first) == "main");
    CHECK_FALSE(std::filesystem::exists(db));
}

TEST_CASE("a database that is not there cannot be moved aside", "[store]") {
    TempDir dir;
    CHECK_THROWS_AS(quarantine_database(dir / "missing.db", std::time(nullptr)),
                    std::filesystem::filesystem_error);
}
