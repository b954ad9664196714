// Moving a damaged database aside (`exim-band --rebuild-db`): the file and
// the files SQLite keeps beside it are renamed, never deleted, to one new
// name with a timestamp, so that a fresh database can be made at the path
// and the old one is still there to inspect or recover.
#pragma once

#include <ctime>
#include <filesystem>

namespace exim_ban {

// "PATH.corrupt-YYYYMMDDTHHMMSS" for the time `when` (local time, as the
// logs give it); with `attempt` > 1, "-N" after it. Pure.
std::filesystem::path quarantine_path(const std::filesystem::path& database, const std::tm& when,
                                      unsigned attempt = 1);

// Renames the database's -wal, -shm and -journal files (those that exist)
// and then the database to quarantine_path() for `now` plus the same
// suffixes, taking the first attempt whose names are all free. Returns the
// database's new path. Throws std::filesystem::filesystem_error when a
// rename fails (what was renamed before it stays renamed: the database
// itself goes last, so it never meets a stranger's WAL).
std::filesystem::path quarantine_database(const std::filesystem::path& database, std::time_t now);

} // namespace exim_ban
