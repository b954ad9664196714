#include "store/sqlite_database.hpp"

#include <sqlite3.h>

namespace exim_ban {

bool SqliteError::busy() const {
    return (code_ & 0xff) == SQLITE_BUSY || (code_ & 0xff) == SQLITE_LOCKED;
}
bool SqliteError::full() const {
    return (code_ & 0xff) == SQLITE_FULL || (code_ & 0xff) == SQLITE_IOERR;
}

void check_sqlite(sqlite3* db, int code, std::string_view what) {
    if (code == SQLITE_OK || code == SQLITE_ROW || code == SQLITE_DONE)
        return;
    const char* message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
    throw SqliteError(std::string(what) + ": " + message, code);
}

SqliteStatement::SqliteStatement(sqlite3* db, std::string_view sql)
    : db_(db) {
    check_sqlite(db,
                 sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &statement_, nullptr),
                 "prepare");
}

SqliteStatement::~SqliteStatement() {
    sqlite3_finalize(statement_);
}

SqliteStatement& SqliteStatement::bind(int index, std::int64_t value) {
    check_sqlite(db_, sqlite3_bind_int64(statement_, index, value), "bind");
    return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::string_view text) {
    return bind_bytes(index, text, false);
}

SqliteStatement& SqliteStatement::bind_blob(int index, std::string_view bytes) {
    return bind_bytes(index, bytes, true);
}

SqliteStatement& SqliteStatement::bind_bytes(int index, std::string_view bytes, bool blob) {
    const int size = static_cast<int>(bytes.size());
    // SQLite copies the bytes: the caller's may be gone by the step.
    const int code =
        blob ? sqlite3_bind_blob(statement_, index, bytes.data(), size, SQLITE_TRANSIENT)
             : sqlite3_bind_text(statement_, index, bytes.data(), size, SQLITE_TRANSIENT);
    check_sqlite(db_, code, "bind");
    return *this;
}

SqliteStatement& SqliteStatement::bind_null(int index) {
    check_sqlite(db_, sqlite3_bind_null(statement_, index), "bind");
    return *this;
}

bool SqliteStatement::step() {
    const int code = sqlite3_step(statement_);
    if (code == SQLITE_ROW)
        return true;
    if (code == SQLITE_DONE)
        return false;
    const int extended = sqlite3_extended_errcode(db_);
    const std::string message = sqlite3_errmsg(db_);
    sqlite3_reset(statement_);
    throw SqliteError("step: " + message, extended);
}

void SqliteStatement::run() {
    while (step()) {
    }
    reset();
}

void SqliteStatement::reset() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
}

std::int64_t SqliteStatement::column_int(int index) const {
    return sqlite3_column_int64(statement_, index);
}

std::string SqliteStatement::column_text(int index) const {
    // column_blob then column_bytes: the bytes as stored, text or blob.
    const auto* bytes = static_cast<const char*>(sqlite3_column_blob(statement_, index));
    return bytes == nullptr
               ? std::string{}
               : std::string(bytes,
                             static_cast<std::size_t>(sqlite3_column_bytes(statement_, index)));
}

bool SqliteStatement::column_is_null(int index) const {
    return sqlite3_column_type(statement_, index) == SQLITE_NULL;
}

SqliteDatabase::SqliteDatabase(const std::filesystem::path& path, Mode mode)
    : path_(path) {
    const int access =
        mode == Mode::read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    const int code = sqlite3_open_v2(path.c_str(), &db_, access | SQLITE_OPEN_NOMUTEX, nullptr);
    if (code != SQLITE_OK) {
        const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
        sqlite3_close(db_);
        db_ = nullptr;
        throw SqliteError("cannot open " + path.string() + ": " + message, code);
    }
    sqlite3_extended_result_codes(db_, 1);
    if (mode == Mode::read_write) {
        // Exim's connect ACL reads this database with read permission only,
        // and a reader cannot open a WAL database whose -wal and -shm files
        // are gone: keep them when the last connection closes, so that the
        // counts stay readable while exim-band is stopped.
        int persist = 1;
        const int refused = sqlite3_file_control(db_, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
        if (refused != SQLITE_OK) {
            sqlite3_close(db_);
            db_ = nullptr;
            throw SqliteError("cannot keep the WAL files of " + path.string() + ": " +
                                  sqlite3_errstr(refused),
                              refused);
        }
    }
}

SqliteDatabase::~SqliteDatabase() {
    sqlite3_close_v2(db_);
}

void SqliteDatabase::execute(std::string_view sql) {
    char* error = nullptr;
    const int code = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &error);
    if (code != SQLITE_OK) {
        const std::string message = error != nullptr ? error : sqlite3_errstr(code);
        sqlite3_free(error);
        throw SqliteError(message, sqlite3_extended_errcode(db_));
    }
}

std::int64_t SqliteDatabase::query_int(std::string_view sql) {
    SqliteStatement statement(db_, sql);
    return statement.step() ? statement.column_int(0) : 0;
}

} // namespace exim_ban
