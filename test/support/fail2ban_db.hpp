// A database as fail2ban 1.0.2 creates it (server/database.py, version 4),
// with rows the test chooses, for the import-fail2ban tests.
#pragma once

#include "import/fail2ban_bans.hpp"
#include "store/sqlite_database.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace exim_ban::testing {

inline constexpr const char* fail2ban_schema = R"sql(
CREATE TABLE fail2banDb(version INTEGER);
INSERT INTO fail2banDb(version) VALUES(4);
CREATE TABLE jails(name TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1);
CREATE TABLE logs(jail TEXT NOT NULL, path TEXT, firstlinemd5 TEXT, lastfilepos INTEGER DEFAULT 0,
    FOREIGN KEY(jail) REFERENCES jails(name) ON DELETE CASCADE, UNIQUE(jail, path),
    UNIQUE(jail, path, firstlinemd5));
CREATE TABLE bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL,
    bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON,
    FOREIGN KEY(jail) REFERENCES jails(name));
CREATE TABLE bips(ip TEXT NOT NULL, jail TEXT NOT NULL, timeofban INTEGER NOT NULL,
    bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON,
    PRIMARY KEY(ip, jail), FOREIGN KEY(jail) REFERENCES jails(name));
)sql";

// Creates the database with `jails` and, in `jail`, the rows given.
inline void make_fail2ban_db(const std::filesystem::path& path,
                             const std::vector<std::string>& jails, const std::string& jail,
                             const std::vector<Fail2banBanRow>& bips,
                             const std::vector<Fail2banBanRow>& bans) {
    SqliteDatabase database(path);
    database.execute(fail2ban_schema);
    for (const auto& name : jails) {
        SqliteStatement(database.handle(), "INSERT INTO jails(name) VALUES(?1)")
            .bind(1, name)
            .run();
    }
    for (const auto& [table, rows] : {std::pair{"bips", &bips}, std::pair{"bans", &bans}}) {
        SqliteStatement insert(database.handle(),
                               std::string("INSERT INTO ") + table +
                                   "(jail, ip, timeofban, bantime, bancount, data) "
                                   "VALUES(?1, ?2, ?3, ?4, ?5, '{}')");
        for (const auto& row : *rows)
            insert.bind(1, jail)
                .bind(2, row.ip)
                .bind(3, row.timeofban)
                .bind(4, row.bantime)
                .bind(5, row.bancount)
                .run();
    }
}

} // namespace exim_ban::testing
