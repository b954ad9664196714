// SQLite's errors as the Store's failure values: what the running daemon's
// reads and writes return instead of throwing.
#pragma once

#include "store/sqlite_database.hpp"
#include "store/store.hpp"

namespace exim_ban {

// A locked or full database may take the same work later (retry).
inline StoreFailure store_failure(const SqliteError& error) {
    return StoreFailure{error.what(), error.busy() || error.full()};
}

// Runs `read`; an SqliteError it throws becomes its StoreFailure.
template <typename Read>
auto read_or_failure(Read&& read) -> StoreRead<decltype(read())> {
    try {
        return read();
    } catch (const SqliteError& error) {
        return store_failure(error);
    }
}

} // namespace exim_ban
