#include "store/schema.hpp"
#include "store/sqlite_database.hpp"
#include "store/sqlite_store.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sqlite3.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace exim_ban;
using exim_ban::testing::TempDir;

namespace {

BanKey key(const char* address) {
    return ban_key(*IpAddress::parse(address), 64);
}

Batch batch_with(std::uint64_t offset, int hits, const char* address = "192.0.2.1") {
    Batch batch;
    batch.files.push_back({"/var/log/exim4/mainlog", 2049, 1234, "ab12", offset});
    for (int i = 0; i < hits; ++i)
        batch.hits.push_back({"exim", key(address), 1000 + i, 0});
    return batch;
}

std::int64_t count(const std::filesystem::path& db, const char* sql) {
    SqliteDatabase database(db);
    return database.query_int(sql);
}

} // namespace

TEST_CASE("a new or empty file becomes a database at the current schema", "[store]") {
    TempDir dir;
    { std::ofstream(dir / "empty.db"); }
    for (const char* name : {"empty.db", "new.db"}) {
        INFO(name);
        SqliteStore store(dir / name);
        CHECK(store.file_offsets().value().empty());
        CHECK(count(dir / name, "PRAGMA user_version") == current_schema_version);
        CHECK(count(dir / name, "SELECT count(*) FROM sqlite_master WHERE name = 'blacklist'") ==
              1);
    }
    {
        SqliteDatabase database(dir / "new.db");
        SqliteStatement mode(database.handle(), "PRAGMA journal_mode");
        REQUIRE(mode.step());
        CHECK(mode.column_text(0) == "wal");
    }
}

TEST_CASE("what cannot be opened is a clear start-up error, and the file is left alone",
          "[store]") {
    TempDir dir;
    { std::ofstream(dir / "garbage.db") << std::string(4096, 'x'); }
    CHECK_THROWS_WITH(SqliteStore(dir / "garbage.db"),
                      Catch::Contains("garbage.db") && Catch::Contains("move it aside"));
    CHECK(std::filesystem::file_size(dir / "garbage.db") == 4096);

    {
        SqliteDatabase future(dir / "future.db");
        future.execute("PRAGMA user_version = 99");
    }
    CHECK_THROWS_WITH(SqliteStore(dir / "future.db"), Catch::Contains("schema version 99, newer"));
    CHECK_THROWS_WITH(SqliteStore(dir / "no-such-dir/x.db"), Catch::Contains("writable"));
}

namespace {

std::string file_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

} // namespace

TEST_CASE("only a file that is no database, or a damaged one, is refused as damaged", "[store]") {
    TempDir dir;
    { std::ofstream(dir / "garbage.db") << std::string(4096, 'x'); }
    try {
        SqliteStore store(dir / "garbage.db");
        FAIL("garbage opened");
    } catch (const StoreOpenError& error) {
        CHECK(error.damaged());
    }
    {
        SqliteDatabase future(dir / "future.db");
        future.execute("PRAGMA user_version = 99");
    }
    try {
        SqliteStore store(dir / "future.db");
        FAIL("a newer schema opened");
    } catch (const StoreOpenError& error) {
        CHECK_FALSE(error.damaged());
    }
}

TEST_CASE("a database with a damaged page is refused before anything is written to it", "[store]") {
    TempDir dir;
    const auto db = dir / "state.db";
    {
        SqliteStore store(db);
        for (int i = 0; i < 20; ++i)
            REQUIRE_FALSE(store.commit(batch_with(static_cast<std::uint64_t>(i), 500)));
    }
    {
        // A WAL kept after a clean close still holds valid copies of the
        // pages it wrote, which would hide the damage below: empty it.
        SqliteDatabase(db).execute("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    const auto page_size = count(db, "PRAGMA page_size");
    const auto bans_root = count(db, "SELECT rootpage FROM sqlite_master WHERE name = 'bans'");
    // A crash left a batch in the WAL, not yet in the file: opening would
    // fold its counts in (a write) and closing would copy the WAL back.
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        SqliteStore store(db);
        ::_exit(store.commit(batch_with(99, 10)) ? 1 : 0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WEXITSTATUS(status) == 0);
    {
        // The bans table's page, which that batch did not change (the
        // WAL's newer copy of a page would hide the damage).
        std::fstream file(db, std::ios::in | std::ios::out | std::ios::binary);
        file.seekp((bans_root - 1) * page_size);
        file << std::string(64, '\xa5');
    }
    const std::string before = file_bytes(db);
    const std::string wal_before = file_bytes(db.string() + "-wal");
    REQUIRE_FALSE(wal_before.empty());
    try {
        SqliteStore store(db);
        FAIL("a damaged database opened");
    } catch (const StoreOpenError& error) {
        CHECK(error.damaged());
        const std::string message = error.what();
        CHECK(message.find(db.string()) != std::string::npos);
        CHECK(message.find('\n') == std::string::npos);
    }
    CHECK(file_bytes(db) == before);
    CHECK(file_bytes(db.string() + "-wal") == wal_before);
}

TEST_CASE("a rotated file's position round-trips with its path's, and is cleared", "[store]") {
    TempDir dir;
    SqliteStore store(dir / "state.db");
    Batch batch = batch_with(4096, 0);
    batch.files[0].rotated = RotatedFilePosition{2049, 1233, "cd34", 70000};
    REQUIRE_FALSE(store.commit(batch));
    auto files = store.file_offsets().value();
    REQUIRE(files.size() == 1);
    CHECK(files[0].offset == 4096);
    REQUIRE(files[0].rotated);
    CHECK(files[0].rotated->device == 2049);
    CHECK(files[0].rotated->inode == 1233);
    CHECK(files[0].rotated->head_hash == "cd34");
    CHECK(files[0].rotated->offset == 70000);

    REQUIRE_FALSE(store.commit(batch_with(5000, 0)));
    files = store.file_offsets().value();
    REQUIRE(files.size() == 1);
    CHECK(files[0].offset == 5000);
    CHECK_FALSE(files[0].rotated);
}

TEST_CASE("offsets, hits, bans and unbans round-trip", "[store]") {
    TempDir dir;
    SqliteStore store(dir / "state.db");
    Batch batch = batch_with(4096, 3);
    batch.hits.push_back({"exim", key("2001:db8:1:2::7"), 1003, 2});
    batch.bans.push_back({"exim", key("192.0.2.1"), 1002, 4602, "maxretry", "log"});
    batch.bans.push_back({"exim", key("2001:db8:1:2::7"), 1003, 1500, "maxretry", "log"});
    batch.bans.push_back({"exim", key("198.51.100.9"), 1003, 9999, "manual", "manual"});
    REQUIRE_FALSE(store.commit(batch));

    const auto files = store.file_offsets().value();
    REQUIRE(files.size() == 1);
    CHECK(files[0].offset == 4096);
    CHECK(files[0].inode == 1234);
    CHECK(files[0].head_hash == "ab12");

    CHECK(files[0].cursor.empty());

    auto active = store.active_bans(1600).value();
    REQUIRE(active.size() == 2);
    CHECK(active[0].key.to_string() == "192.0.2.1");
    CHECK(active[1].reason == "manual");

    Batch unban;
    unban.unbans.push_back({"", key("198.51.100.9"), 2000});
    REQUIRE_FALSE(store.commit(unban));
    active = store.active_bans(2001).value();
    REQUIRE(active.size() == 1);
    CHECK(active[0].key.to_string() == "192.0.2.1");

    const KeyHistory history = store.history("exim", key("192.0.2.1")).value();
    CHECK(history.lifetime_hits == 3);
    CHECK(history.bans == 1);
    CHECK(history.banned_until == 4602);
    CHECK(store.history("exim", key("203.0.113.1")).value().lifetime_hits == 0);

    // Purging old hits keeps the lifetime counts.
    REQUIRE_FALSE(store.purge_hits(2000));
    CHECK(count(dir / "state.db", "SELECT count(*) FROM hit_batches") == 0);
    CHECK(store.history("exim", key("192.0.2.1")).value().lifetime_hits == 3);
}

TEST_CASE("the blacklist view answers the seeds' Exim query", "[store]") {
    TempDir dir;
    {
        SqliteStore store(dir / "state.db");
        REQUIRE_FALSE(store.commit(batch_with(1, 7, "192.0.2.44")));
        Batch more = batch_with(2, 2, "192.0.2.44");
        more.hits.push_back({"exim_spam", key("192.0.2.44"), 5, 0});
        for (int i = 0; i < 4; ++i)
            more.hits.push_back(
                {"exim", key(i % 2 ? "2001:db8:1:2::1" : "2001:db8:1:2:ffff::9"), 5, 0});
        REQUIRE_FALSE(store.commit(more));
    }
    SqliteDatabase exim(dir / "state.db");
    CHECK(exim.query_int("select sum(count) from blacklist where ip = '192.0.2.44'") == 10);
    CHECK(exim.query_int("select sum(count) from blacklist where ip = '2001:db8:1:2::/64'") == 4);
    CHECK(exim.query_int("select coalesce(sum(count),0) from blacklist where ip = '192.0.2.45'") ==
          0);
    CHECK(exim.query_int("select count(*) from blacklist") == 2);
}

TEST_CASE("a batch is all or nothing: the writer killed mid-commit", "[store]") {
    TempDir dir;
    const auto db = dir / "state.db";
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(ready[0]);
        SqliteStore store(db);
        if (store.commit(batch_with(100, 10)))
            ::_exit(2);
        const char go = 'x';
        if (::write(ready[1], &go, 1) != 1)
            ::_exit(3);
        // Big enough to be still in flight when the parent kills us.
        store.commit(batch_with(200, 5'000'000, "192.0.2.2"));
        ::_exit(0);
    }
    ::close(ready[1]);
    char go = 0;
    REQUIRE(::read(ready[0], &go, 1) == 1);
    ::close(ready[0]);
    // Wait, bounded, until the second transaction is writing pages, then kill.
    const auto wal = std::filesystem::path(db.string() + "-wal");
    const auto first_size = std::filesystem::exists(wal) ? std::filesystem::file_size(wal) : 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    bool in_flight = false;
    while (std::chrono::steady_clock::now() < deadline) {
        std::error_code error;
        if (std::filesystem::file_size(wal, error) > first_size + (1 << 20)) {
            in_flight = true;
            break;
        }
        int status = 0;
        if (::waitpid(child, &status, WNOHANG) == child)
            break; // finished before we could kill it: the test proves nothing
        std::this_thread::yield();
    }
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    REQUIRE(in_flight);

    SqliteStore reopened(db);
    const auto files = reopened.file_offsets().value();
    REQUIRE(files.size() == 1);
    CHECK(files[0].offset == 100);
    CHECK(count(db, "SELECT sum(count) FROM hit_batches") == 10);
    CHECK(count(db, "select coalesce(sum(count),0) from blacklist where ip = '192.0.2.2'") == 0);
}

TEST_CASE("lifetime counts: checkpointed, and folded in again after a crash", "[store]") {
    TempDir dir;
    const auto db = dir / "state.db";
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // Commits without reaching a count checkpoint, then dies without
        // the destructor's checkpoint.
        SqliteStore store(db);
        store.commit(batch_with(10, 3, "192.0.2.77"));
        store.commit(batch_with(20, 4, "192.0.2.77"));
        ::_exit(store.history("exim", key("192.0.2.77")).value().lifetime_hits == 7 ? 0 : 1);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    CHECK(count(db, "select coalesce(sum(count),0) from blacklist where ip = '192.0.2.77'") == 0);

    SqliteStore reopened(db); // folds the two uncounted batches in
    CHECK(count(db, "select sum(count) from blacklist where ip = '192.0.2.77'") == 7);
    CHECK(reopened.history("exim", key("192.0.2.77")).value().lifetime_hits == 7);
    REQUIRE_FALSE(reopened.commit(batch_with(30, 1, "192.0.2.77")));
    CHECK(reopened.history("exim", key("192.0.2.77")).value().lifetime_hits == 8);
    REQUIRE_FALSE(reopened.checkpoint_counts());
    CHECK(count(db, "select sum(count) from blacklist where ip = '192.0.2.77'") == 8);
}

TEST_CASE("a bans-only writer beside the daemon leaves the daemon's uncounted hits to it",
          "[store]") {
    TempDir dir;
    const auto db = dir / "state.db";
    SqliteStore daemon(db);
    REQUIRE_FALSE(daemon.commit(batch_with(10, 3, "192.0.2.78"))); // counted in memory only
    {
        SqliteStore tool(db, SqliteStore::Writer::bans_only);
        Batch bans;
        bans.bans.push_back({"exim", key("198.51.100.9"), 100, 200, "fail2ban", "import"});
        REQUIRE_FALSE(tool.commit(bans));
    }
    CHECK(count(db, "select coalesce(sum(count),0) from blacklist where ip = '192.0.2.78'") == 0);
    REQUIRE_FALSE(daemon.checkpoint_counts());
    CHECK(count(db, "select sum(count) from blacklist where ip = '192.0.2.78'") == 3);
    CHECK(daemon.bans_of(key("198.51.100.9")).value().size() == 1);
}

TEST_CASE("a locked database fails the commit for a retry, and nothing is lost", "[store]") {
    TempDir dir;
    SqliteStore store(dir / "state.db");
    REQUIRE_FALSE(store.commit(batch_with(1, 1)));
    {
        SqliteDatabase other(dir / "state.db");
        other.execute("BEGIN IMMEDIATE");
        auto failure = store.commit(batch_with(2, 5));
        REQUIRE(failure);
        CHECK(failure->retry);
        other.execute("ROLLBACK");
    }
    REQUIRE_FALSE(store.commit(batch_with(2, 5)));
    CHECK(store.file_offsets().value()[0].offset == 2);
    CHECK(count(dir / "state.db", "SELECT sum(count) FROM hit_batches") == 6);
}

TEST_CASE("a jail's memory: every key's history and the hits inside findtime", "[store]") {
    TempDir dir;
    {
        SqliteStore store(dir / "state.db");
        Batch old = batch_with(10, 3, "192.0.2.1"); // hits at 1000..1002
        old.hits.push_back({"other", key("192.0.2.9"), 1001, 0});
        REQUIRE_FALSE(store.commit(old));
        Batch recent;
        recent.hits.push_back({"exim", key("2001:db8::1"), 5000, 2});
        recent.hits.push_back({"exim", key("192.0.2.1"), 5100, 1});
        recent.bans.push_back({"exim", key("192.0.2.1"), 5100, 8700, "maxretry", "log"});
        REQUIRE_FALSE(store.commit(recent));
    }
    SqliteStore reopened(dir / "state.db");
    const JailMemory memory = reopened.jail_memory("exim", std::chrono::seconds{600}).value();
    std::map<std::string, KeyHistory> keys;
    for (const auto& [k, history] : memory.keys)
        keys[k.to_string()] = history;
    REQUIRE(keys.size() == 2);
    CHECK(keys["192.0.2.1"].lifetime_hits == 4);
    CHECK(keys["192.0.2.1"].bans == 1);
    CHECK(keys["192.0.2.1"].banned_until == 8700);
    CHECK(keys["2001:db8::/64"].lifetime_hits == 1);
    CHECK(keys["2001:db8::/64"].bans == 0);
    // Only the batch within 600 s of the newest hit (5100) comes back, in order.
    REQUIRE(memory.recent_hits.size() == 2);
    CHECK(memory.recent_hits[0].key == key("2001:db8::1"));
    CHECK(memory.recent_hits[0].time == 5000);
    CHECK(memory.recent_hits[0].pattern == 2);
    CHECK(memory.recent_hits[1].time == 5100);
    CHECK(reopened.jail_memory("exim", std::chrono::seconds{5000}).value().recent_hits.size() == 5);
    CHECK(reopened.jail_memory("nojail", std::chrono::seconds{600}).value().keys.empty());
}

TEST_CASE("the WAL is checkpointed off the committing thread", "[store]") {
    TempDir dir;
    SqliteStore store(dir / "state.db");
    // 1,000 pages of 4 KiB: about 4 MB of hits, 32 bytes each.
    Batch batch = batch_with(0, 20'000);
    for (int i = 0; i < 8 && store.wal_checkpoints() == 0; ++i)
        REQUIRE_FALSE(store.commit(batch));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
    while (store.wal_checkpoints() == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
    CHECK(store.wal_checkpoints() >= 1);
    // In the database file, which only a checkpoint writes: SQLite's
    // checkpoint can also succeed having copied nothing.
    CHECK(std::filesystem::file_size(dir / "state.db") > 1'000'000);
}

TEST_CASE("a key's hits newest first, and its bans with their lifting", "[store]") {
    TempDir dir;
    SqliteStore store(dir / "state.db");
    REQUIRE_FALSE(store.commit(batch_with(10, 3, "192.0.2.1"))); // 1000, 1001, 1002
    Batch later = batch_with(20, 2, "192.0.2.2");
    later.hits.push_back({"exim", key("192.0.2.1"), 2000, 4});
    later.bans.push_back({"exim", key("192.0.2.1"), 2000, 5600, "maxretry", "log"});
    REQUIRE_FALSE(store.commit(later));
    Batch unban;
    unban.unbans.push_back({"", key("192.0.2.1"), 2500});
    REQUIRE_FALSE(store.commit(unban));

    const auto hits = store.hits_of("exim", key("192.0.2.1"), 3).value();
    REQUIRE(hits.size() == 3);
    CHECK(hits[0].time == 2000);
    CHECK(hits[0].pattern == 4);
    CHECK(hits[1].time == 1002);
    CHECK(hits[2].time == 1001);
    CHECK(store.hits_of("other", key("192.0.2.1"), 10).value().empty());
    const auto bans = store.bans_of(key("192.0.2.1")).value();
    REQUIRE(bans.size() == 1);
    CHECK(bans[0].expires == 5600);
    CHECK(bans[0].lifted == 2500);
    CHECK(store.active_bans(2400).value().empty());
}

TEST_CASE("a read the database cannot answer is a failure value, and the next one reads again",
          "[store]") {
    TempDir dir;
    SqliteStore store(dir / "state.db");
    Batch batch = batch_with(1, 1);
    batch.bans.push_back({"exim", key("192.0.2.1"), 1000, 2000, "maxretry", "log"});
    REQUIRE_FALSE(store.commit(batch));
    SqliteDatabase other(dir / "state.db");
    other.execute("ALTER TABLE bans RENAME TO bans_aside");
    const auto active = store.active_bans(1500);
    REQUIRE_FALSE(active);
    CHECK(active.failure().message.find("bans") != std::string::npos);
    CHECK_FALSE(active.failure().retry);
    CHECK_FALSE(store.bans_of(key("192.0.2.1")));
    CHECK_FALSE(store.history("exim", key("192.0.2.1")));
    CHECK(store.file_offsets()); // another table reads on
    other.execute("ALTER TABLE bans_aside RENAME TO bans");
    const auto again = store.active_bans(1500);
    REQUIRE(again);
    CHECK(again->size() == 1);
}

TEST_CASE("a journal cursor commits and reads back beside the files", "[store]") {
    TempDir dir;
    SqliteStore store(dir / "state.db");
    Batch batch = batch_with(10, 1);
    LogPosition journal;
    journal.path = "journal:SYSLOG_IDENTIFIER=exim";
    journal.cursor = "s=1;i=2;b=3;m=4;t=5;x=6";
    batch.files.push_back(journal);
    REQUIRE_FALSE(store.commit(batch));
    journal.cursor = "s=1;i=3;b=3;m=5;t=6;x=7";
    Batch moved;
    moved.files.push_back(journal);
    REQUIRE_FALSE(store.commit(moved));

    const auto files = store.file_offsets().value();
    REQUIRE(files.size() == 2);
    CHECK(files[0].path == "/var/log/exim4/mainlog");
    CHECK(files[0].offset == 10);
    CHECK(files[0].cursor.empty());
    CHECK(files[1].path == "journal:SYSLOG_IDENTIFIER=exim");
    CHECK(files[1].cursor == "s=1;i=3;b=3;m=5;t=6;x=7");
}

TEST_CASE("a database of schema 1 keeps its file offsets when the rotated file's and the cursor "
          "columns are added",
          "[store]") {
    TempDir dir;
    {
        SqliteDatabase database(dir / "old.db");
        database.execute("CREATE TABLE files(path TEXT PRIMARY KEY, dev INTEGER NOT NULL, inode "
                         "INTEGER NOT NULL, head_hash TEXT NOT NULL, offset INTEGER NOT NULL)");
        database.execute("INSERT INTO files VALUES('/var/log/exim4/mainlog', 1, 2, 'h', 77)");
        // The rest of schema 1, as its migration made it.
        database.execute("CREATE TABLE hit_batches(id INTEGER PRIMARY KEY, jail TEXT NOT NULL, "
                         "first_ts INTEGER NOT NULL, last_ts INTEGER NOT NULL, count INTEGER NOT "
                         "NULL, data BLOB NOT NULL)");
        database.execute("CREATE TABLE bans(id INTEGER PRIMARY KEY, jail TEXT NOT NULL, key TEXT "
                         "NOT NULL, start INTEGER NOT NULL, expires INTEGER NOT NULL, lifted "
                         "INTEGER, reason TEXT NOT NULL, origin TEXT NOT NULL)");
        database.execute("CREATE TABLE key_hits(key TEXT NOT NULL, jail TEXT NOT NULL, hits "
                         "INTEGER NOT NULL, PRIMARY KEY(key, jail)) WITHOUT ROWID");
        database.execute("CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
        database.execute("INSERT INTO meta(name, value) VALUES('counted_through', 0)");
        database.execute("CREATE VIEW blacklist(ip, count) AS SELECT key, sum(hits) FROM "
                         "key_hits GROUP BY key");
        database.execute("PRAGMA user_version = 1");
    }
    SqliteStore store(dir / "old.db");
    const auto files = store.file_offsets().value();
    REQUIRE(files.size() == 1);
    CHECK(files[0].offset == 77);
    CHECK(files[0].head_hash == "h");
    CHECK_FALSE(files[0].rotated);
    CHECK(files[0].cursor.empty());
    CHECK(count(dir / "old.db", "PRAGMA user_version") == current_schema_version);
}

TEST_CASE("trust: logins and excused mistakes round-trip; a ban or forget drops them",
          "[store][trust]") {
    TempDir dir;
    {
        SqliteStore store(dir / "db");
        Batch batch = batch_with(10, 0);
        batch.successes.push_back({"exim", key("192.0.2.7"), "alice", 1000});
        batch.successes.push_back({"exim", key("192.0.2.7"), "alice", 900}); // older: kept 1000
        batch.successes.push_back({"exim", key("192.0.2.7"), "bob", 1100});
        batch.successes.push_back({"exim", key("2001:db8:1:2::10"), "carol", 1200});
        batch.successes.push_back({"other", key("192.0.2.8"), "dave", 1200});
        batch.mistakes.push_back({"exim", key("192.0.2.7"), 1300});
        batch.mistakes.push_back({"exim", key("192.0.2.7"), 1301});
        REQUIRE_FALSE(store.commit(batch));
    }
    SqliteStore reopened(dir / "db"); // as after a restart, or kill -9 after the commit
    JailTrust trust = reopened.jail_trust("exim", 0, 0).value();
    REQUIRE(trust.logins.size() == 3);
    CHECK(trust.logins[0].key.to_string() == "192.0.2.7");
    CHECK(trust.logins[0].account == "alice");
    CHECK(trust.logins[0].last_seen == 1000);
    CHECK(trust.logins[1].account == "bob");
    CHECK(trust.logins[2].key.to_string() == "2001:db8:1:2::/64");
    REQUIRE(trust.mistakes.size() == 2);
    CHECK(trust.mistakes[1].time == 1301);
    // The read takes only logins and mistakes after the times asked for.
    CHECK(reopened.jail_trust("exim", 1000, 1300).value().logins.size() == 2);
    CHECK(reopened.jail_trust("exim", 1000, 1300).value().mistakes.size() == 1);

    // A ban of the key drops its trust in its jail, in the same commit; a
    // success at or before the ban's start in that batch goes with it, a
    // later one stays.
    Batch ban = batch_with(20, 0);
    ban.successes.push_back({"exim", key("192.0.2.7"), "erin", 1400});
    ban.successes.push_back({"exim", key("192.0.2.7"), "frank", 1600});
    ban.bans.push_back({"exim", key("192.0.2.7"), 1500, 5100, "maxretry", "log"});
    REQUIRE_FALSE(reopened.commit(ban));
    trust = reopened.jail_trust("exim", 0, 0).value();
    REQUIRE(trust.logins.size() == 2);
    CHECK(trust.logins[0].account == "frank");
    CHECK(trust.logins[1].account == "carol");
    CHECK(trust.mistakes.empty());
    CHECK(reopened.jail_trust("other", 0, 0).value().logins.size() == 1);

    Batch forget;
    forget.forgotten.push_back({"", key("2001:db8:1:2::99")});
    REQUIRE_FALSE(reopened.commit(forget));
    CHECK(reopened.jail_trust("exim", 0, 0).value().logins.size() == 1);
}

TEST_CASE("trust: purging old hits purges old mistakes, not logins", "[store][trust]") {
    TempDir dir;
    SqliteStore store(dir / "db");
    Batch batch = batch_with(10, 0);
    batch.successes.push_back({"exim", key("192.0.2.7"), "alice", 100});
    batch.mistakes.push_back({"exim", key("192.0.2.7"), 100});
    batch.mistakes.push_back({"exim", key("192.0.2.7"), 5000});
    REQUIRE_FALSE(store.commit(batch));
    REQUIRE_FALSE(store.purge_hits(1000));
    const JailTrust trust = store.jail_trust("exim", 0, 0).value();
    CHECK(trust.logins.size() == 1);
    CHECK(trust.mistakes.size() == 1);
}

TEST_CASE("open Dovecot sessions: changed, ended and purged with the batches", "[store]") {
    TempDir dir;
    {
        SqliteStore store(dir / "db");
        Batch first = batch_with(10, 0);
        first.sessions.push_back({"mail", "HVCzzBNi3a7LAHEN", 1, 100});
        first.sessions.push_back({"mail", "0/FQ2xNiF7DLAHEh", 1, 101});
        first.sessions.push_back({"exim", "HVCzzBNi3a7LAHEN", 1, 101});
        first.sessions.push_back({"mail", "HVCzzBNi3a7LAHEN", 2, 102});
        REQUIRE_FALSE(store.commit(first));
        Batch second = batch_with(20, 10);
        second.sessions.push_back({"mail", "0/FQ2xNiF7DLAHEh", 0, 103}); // its summary came
        second.sessions.push_back({"mail", "never-seen", 0, 104});
        second.sessions.push_back({"mail", "old", 1, 5});
        REQUIRE_FALSE(store.commit(second));
    }
    // Across a restart.
    SqliteStore store(dir / "db");
    auto open = store.open_sessions("mail").value();
    REQUIRE(open.size() == 2);
    CHECK(open[0].session == "old");
    CHECK(open[1].session == "HVCzzBNi3a7LAHEN");
    CHECK(open[1].counted == 2);
    CHECK(open[1].time == 102);
    CHECK(store.open_sessions("exim").value().size() == 1);
    REQUIRE_FALSE(store.purge_hits(50));
    CHECK(store.open_sessions("mail").value().size() == 1);
}
