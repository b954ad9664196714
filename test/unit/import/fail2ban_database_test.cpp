#include "import/fail2ban_database.hpp"
#include "support/fail2ban_db.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fstream>

using namespace exim_ban;
using exim_ban::testing::make_fail2ban_db;
using exim_ban::testing::TempDir;

TEST_CASE("a jail's bips and bans rows, read without changing the file", "[import]") {
    TempDir dir;
    const auto db = dir / "fail2ban.sqlite3";
    make_fail2ban_db(db, {"exim", "sshd"}, "exim", {{"192.0.2.1", 1000, 600, 2}},
                     {{"192.0.2.1", 100, 600, 1}, {"192.0.2.1", 1000, 600, 2}});
    const auto before = std::filesystem::last_write_time(db);

    const Fail2banDatabase read = read_fail2ban_database(db, "exim");
    CHECK(read.jails == std::vector<std::string>{"exim", "sshd"});
    REQUIRE(read.bips.size() == 1);
    CHECK(read.bips[0].ip == "192.0.2.1");
    CHECK(read.bips[0].timeofban == 1000);
    CHECK(read.bips[0].bantime == 600);
    CHECK(read.bips[0].bancount == 2);
    REQUIRE(read.bans.size() == 2);
    CHECK(read.bans[0].timeofban == 100);
    CHECK(read_fail2ban_database(db, "sshd").bips.empty());
    CHECK(std::filesystem::last_write_time(db) == before);
    CHECK_FALSE(std::filesystem::exists(dir / "fail2ban.sqlite3-journal"));
}

TEST_CASE("a file that is not fail2ban's database is one clear error", "[import]") {
    TempDir dir;
    CHECK_THROWS_WITH(read_fail2ban_database(dir / "none.sqlite3", "exim"),
                      Catch::Contains("none.sqlite3: no such file"));
    CHECK_FALSE(std::filesystem::exists(dir / "none.sqlite3"));
    CHECK_THROWS_WITH(read_fail2ban_database(dir.path(), "exim"), Catch::Contains("not a file"));

    std::ofstream(dir / "text.sqlite3") << "fail2ban? no, a text file long enough to be a header\n";
    CHECK_THROWS_AS(read_fail2ban_database(dir / "text.sqlite3", "exim"), Fail2banDatabaseError);
    CHECK_THROWS_WITH(read_fail2ban_database(dir / "text.sqlite3", "exim"),
                      Catch::Contains("not an SQLite database"));

    SqliteDatabase(dir / "other.sqlite3").execute("CREATE TABLE t(x)");
    CHECK_THROWS_WITH(read_fail2ban_database(dir / "other.sqlite3", "exim"),
                      Catch::Contains("without fail2ban's tables"));

    make_fail2ban_db(dir / "old.sqlite3", {"exim"}, "exim", {}, {});
    SqliteDatabase(dir / "old.sqlite3").execute("UPDATE fail2banDb SET version = 2");
    CHECK_THROWS_WITH(read_fail2ban_database(dir / "old.sqlite3", "exim"),
                      Catch::Contains("schema version 2, this import reads 4"));
}
