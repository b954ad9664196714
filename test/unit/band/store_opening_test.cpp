#include "band/band_service.hpp"
#include "band/store_opening.hpp"
#include "store/database_quarantine.hpp"
#include "store/sqlite_database.hpp"
#include "store/sqlite_store.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <ctime>
#include <fstream>
#include <iterator>

using namespace exim_ban;
using exim_ban::testing::TempDir;

namespace {

std::string read(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> names(const TempDir& dir) {
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
        found.push_back(entry.path().filename().string());
    std::sort(found.begin(), found.end());
    return found;
}

Batch one_file_at(std::uint64_t offset) {
    Batch batch;
    batch.files.push_back({"/var/log/exim4/mainlog", 1, 2, "ab", offset});
    return batch;
}

} // namespace

TEST_CASE("a damaged database is refused, named, with --rebuild-db as the way out", "[band]") {
    TempDir dir;
    const auto db = dir / "state.db";
    const std::string garbage(8192, 'x');
    std::ofstream(db) << garbage;
    try {
        open_band_store(db, false, std::time(nullptr));
        FAIL("a damaged database opened");
    } catch (const StartupError& error) {
        const std::string message = error.what();
        CHECK(message.find(db.string()) != std::string::npos);
        CHECK(message.find("--rebuild-db") != std::string::npos);
    }
    CHECK(read(db) == garbage);
    CHECK(names(dir) == std::vector<std::string>{"state.db"});
}

TEST_CASE("with --rebuild-db a damaged database is moved aside and a fresh one made", "[band]") {
    TempDir dir;
    const auto db = dir / "state.db";
    const std::string garbage(8192, 'x');
    std::ofstream(db) << garbage;
    std::ofstream(db.string() + "-wal") << "stale wal";
    const std::time_t now = std::time(nullptr);
    {
        const std::unique_ptr<SqliteStore> store = open_band_store(db, true, now);
        CHECK(store->file_offsets().value().empty());
        REQUIRE_FALSE(store->commit(one_file_at(7)));
    }
    std::tm local{};
    ::localtime_r(&now, &local);
    const std::filesystem::path moved = quarantine_path(db, local);
    CHECK(read(moved) == garbage);
    CHECK(read(moved.string() + "-wal") == "stale wal");
    CHECK(SqliteStore(db).file_offsets().value().at(0).offset == 7);
}

TEST_CASE("with --rebuild-db an intact database, and one it cannot cure, stay where they are",
          "[band]") {
    TempDir dir;
    const auto db = dir / "state.db";
    { REQUIRE_FALSE(SqliteStore(db).commit(one_file_at(42))); }
    const std::vector<std::string> before = names(dir);
    CHECK(open_band_store(db, true, std::time(nullptr))->file_offsets().value().at(0).offset == 42);
    CHECK(names(dir) == before);

    const auto future = dir / "future.db";
    { SqliteDatabase(future).execute("PRAGMA user_version = 99"); }
    const std::string future_bytes = read(future);
    CHECK_THROWS_WITH(open_band_store(future, true, std::time(nullptr)),
                      Catch::Contains("newer") && Catch::Contains("moves only a damaged"));
    CHECK(read(future) == future_bytes);
    for (const auto& name : names(dir))
        CHECK(name.find(".corrupt-") == std::string::npos);
}
