// The daemon's store at start-up, and `--rebuild-db`: a database that fails
// to open because it is damaged is refused with what to do, or, when asked,
// moved aside (store/database_quarantine) and replaced by a fresh one, which
// the logs then fill again from their start. Any other failure (locked,
// unreadable, a newer schema) is refused either way: moving the file would
// not cure it, and would throw away a good database.
#pragma once

#include <ctime>
#include <filesystem>
#include <memory>

namespace exim_ban {

class SqliteStore;

// Opens the database; a damaged one is moved aside and made anew when
// `rebuild_damaged`, and only then. Throws StartupError naming the file and
// what to do.
std::unique_ptr<SqliteStore> open_band_store(const std::filesystem::path& database,
                                             bool rebuild_damaged, std::time_t now);

} // namespace exim_ban
