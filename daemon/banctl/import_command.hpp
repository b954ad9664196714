// `exim-banctl import-fail2ban`: moves a fail2ban jail to exim-ban. Reads
// the jail's settings from fail2ban's jail files and its bans from
// fail2ban's database, writes the settings as conf.d/50-fail2ban.conf beside
// exim-ban's config, loads the bans (current ones and the earlier ones that
// escalation counts) into exim-ban's database, and asks a running exim-band
// to reload so that the kernel gets them now.
#pragma once

#include "config/config_loader.hpp"

#include <filesystem>
#include <ostream>
#include <string>

namespace exim_ban {

inline constexpr const char* default_fail2ban_database = "/var/lib/fail2ban/fail2ban.sqlite3";
inline constexpr const char* default_fail2ban_jail_conf = "/etc/fail2ban/jail.conf";
inline constexpr const char* default_fail2ban_jail = "exim";
inline constexpr const char* imported_conf_name = "50-fail2ban.conf";

struct ImportOptions {
    std::filesystem::path database = default_fail2ban_database;
    std::filesystem::path jail_conf = default_fail2ban_jail_conf;
    std::string jail = default_fail2ban_jail; // fail2ban's jail
    std::filesystem::path config = default_config_file;
    bool dry_run = false; // print what would be written and loaded, change nothing
    bool force = false;   // replace an existing conf.d/50-fail2ban.conf
};

// Prints what it does and a summary line to `out`, warnings and errors to
// `err`. Returns 0 when everything was imported (or, with dry_run, would
// be), 1 when nothing was because an input is wrong (a missing or foreign
// database, an unknown jail, exim-ban's config does not load, the conf.d
// file exists without force), and 1 when the import is stored but a running
// exim-band refused to reload.
int run_import_fail2ban(const ImportOptions& options, std::ostream& out, std::ostream& err);

} // namespace exim_ban
