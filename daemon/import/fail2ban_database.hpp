// Reads fail2ban's SQLite database (schema version 4: fail2ban 0.11 to
// 1.0.x) without changing it: the jails it knows and one jail's bips and
// bans rows.
#pragma once

#include "import/fail2ban_bans.hpp"

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace exim_ban {

struct Fail2banDatabase {
    std::vector<std::string> jails; // the jails table, enabled or not
    std::vector<Fail2banBanRow> bips;
    std::vector<Fail2banBanRow> bans;
};

// The database cannot be used; the message names the file, says what is
// wrong and what to do.
class Fail2banDatabaseError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Opens `path` read-only (waiting up to 2 s for a fail2ban that writes it)
// and reads `jail`'s rows. Throws Fail2banDatabaseError for a missing or
// unreadable file, one that is no SQLite database, one without fail2ban's
// tables, and a schema version other than 4.
Fail2banDatabase read_fail2ban_database(const std::filesystem::path& path, const std::string& jail);

} // namespace exim_ban
