// Thin RAII wrappers over the SQLite C API: a connection and prepared
// statements, with errors turned into exceptions that carry SQLite's
// message and code (the caller decides whether that is fatal).
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace exim_ban {

class SqliteError : public std::runtime_error {
  public:
    SqliteError(const std::string& message, int code)
        : std::runtime_error(message)
        , code_(code) {}
    int code() const { return code_; } // SQLite's primary result code
    bool busy() const;                 // locked by another connection
    bool full() const;                 // disk or quota full
  private:
    int code_;
};

class SqliteStatement {
  public:
    SqliteStatement(sqlite3* db, std::string_view sql);
    ~SqliteStatement();
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;

    SqliteStatement& bind(int index, std::int64_t value);
    SqliteStatement& bind(int index, std::string_view text);
    SqliteStatement& bind_null(int index);
    SqliteStatement& bind_blob(int index, std::string_view bytes);
    // Steps once; true while a row is available.
    bool step();
    // Steps to the end and resets, for statements that return no rows.
    void run();
    void reset();

    std::int64_t column_int(int index) const;
    std::string column_text(int index) const; // also a blob's bytes
    bool column_is_null(int index) const;

  private:
    SqliteStatement& bind_bytes(int index, std::string_view bytes, bool blob);

    sqlite3* db_;
    sqlite3_stmt* statement_ = nullptr;
};

class SqliteDatabase {
  public:
    // read_only never creates nor changes the file: for reading another
    // program's database (fail2ban's, for import-fail2ban).
    enum class Mode { read_write, read_only };
    // Opens read-write (creating the file if needed) or read-only. Throws
    // SqliteError.
    explicit SqliteDatabase(const std::filesystem::path& path, Mode mode = Mode::read_write);
    ~SqliteDatabase();
    SqliteDatabase(const SqliteDatabase&) = delete;
    SqliteDatabase& operator=(const SqliteDatabase&) = delete;

    void execute(std::string_view sql);
    std::int64_t query_int(std::string_view sql);
    sqlite3* handle() const { return db_; }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
    sqlite3* db_ = nullptr;
};

// Throws SqliteError with `what` and SQLite's message when `code` is no success.
void check_sqlite(sqlite3* db, int code, std::string_view what);

} // namespace exim_ban
