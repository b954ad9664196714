// The database schema, versioned with PRAGMA user_version: each migration
// takes version N to N+1 inside one transaction.
#pragma once

#include "store/sqlite_database.hpp"

#include <cstdint>

namespace exim_ban {

inline constexpr int current_schema_version = 5;

// Returns the database's schema version. Throws std::runtime_error for a
// database written by a newer exim-ban (and SqliteError when the version
// cannot be read). Reads only: a store refuses such a file before changing
// anything in it.
std::int64_t check_schema_version(SqliteDatabase& database);

// Brings the database to current_schema_version. Throws SqliteError, or
// std::runtime_error for a database written by a newer exim-ban.
void migrate(SqliteDatabase& database);

} // namespace exim_ban
