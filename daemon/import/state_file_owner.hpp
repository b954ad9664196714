// The database files that exim-banctl creates as root belong to whoever
// owns the state directory (the packaged daemon's user exim-ban): an import
// run before the daemon's first start must not leave a database, or its
// -wal and -shm files, that the daemon cannot write.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace exim_ban {

// Gives the database and its -wal/-shm/-journal files (those that exist) the owner
// and group of their directory, when run as root and they differ. Returns
// one message per file that could not be changed (empty: all done).
std::vector<std::string> hand_database_to_directory_owner(const std::filesystem::path& database);

} // namespace exim_ban
