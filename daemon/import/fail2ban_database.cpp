#include "import/fail2ban_database.hpp"

#include "store/sqlite_database.hpp"

#include <sqlite3.h>
#include <system_error>

namespace exim_ban {
namespace {

// fail2ban 0.11 added bips and ban counts (version 4); 1.0.x still writes 4.
constexpr std::int64_t fail2ban_schema_version = 4;
constexpr int busy_wait_ms = 2000;

std::vector<Fail2banBanRow> rows_of(SqliteDatabase& database, const char* sql,
                                    const std::string& jail) {
    SqliteStatement query(database.handle(), sql);
    query.bind(1, jail);
    std::vector<Fail2banBanRow> rows;
    while (query.step())
        rows.push_back(
            {query.column_text(0), query.column_int(1), query.column_int(2), query.column_int(3)});
    return rows;
}

} // namespace

Fail2banDatabase read_fail2ban_database(const std::filesystem::path& path,
                                        const std::string& jail) {
    const std::string name = "fail2ban database " + path.string();
    std::error_code error;
    if (!std::filesystem::exists(path, error))
        throw Fail2banDatabaseError(name +
                                    ": no such file; give its path (dbfile in fail2ban.conf) as "
                                    "DBFILE");
    if (!std::filesystem::is_regular_file(path, error))
        throw Fail2banDatabaseError(name + ": not a file");
    try {
        SqliteDatabase database(path, SqliteDatabase::Mode::read_only);
        sqlite3_busy_timeout(database.handle(), busy_wait_ms);
        if (database.query_int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name "
                               "IN ('fail2banDb', 'jails', 'bans', 'bips')") != 4)
            throw Fail2banDatabaseError(
                name + ": an SQLite database without fail2ban's tables (fail2banDb, jails, bans, "
                       "bips); is it fail2ban's dbfile?");
        const std::int64_t version = database.query_int("SELECT version FROM fail2banDb LIMIT 1");
        if (version != fail2ban_schema_version)
            throw Fail2banDatabaseError(
                name + ": schema version " + std::to_string(version) + ", this import reads " +
                std::to_string(fail2ban_schema_version) +
                " (fail2ban 0.11 to 1.0); let a fail2ban of those versions open it once");
        Fail2banDatabase result;
        SqliteStatement jails(database.handle(), "SELECT name FROM jails ORDER BY name");
        while (jails.step())
            result.jails.push_back(jails.column_text(0));
        result.bips = rows_of(database,
                              "SELECT ip, timeofban, bantime, bancount FROM bips WHERE jail = ?1 "
                              "ORDER BY timeofban, ip",
                              jail);
        result.bans = rows_of(database,
                              "SELECT ip, timeofban, bantime, bancount FROM bans WHERE jail = ?1 "
                              "ORDER BY timeofban, ip",
                              jail);
        return result;
    } catch (const SqliteError& failure) {
        const int primary = failure.code() & 0xff;
        std::string advice;
        if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
            advice = "; it is not an SQLite database, or it is damaged";
        else if (primary == SQLITE_CANTOPEN || primary == SQLITE_PERM || primary == SQLITE_AUTH)
            advice = "; run as root, or copy the file somewhere readable";
        else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
            advice = "; fail2ban holds it locked: try again, or stop fail2ban first";
        throw Fail2banDatabaseError(name + ": " + failure.what() + advice);
    }
}

} // namespace exim_ban
