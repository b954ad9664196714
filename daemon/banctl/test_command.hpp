// `exim-banctl test LOGFILE [FILTER] ...`: the offline counterpart of
// fail2ban-regex. Needs no daemon and no root.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>

namespace exim_ban {

struct TestCommandOptions {
    std::string log_path;              // empty: with a jail, replay its sources' files
    std::string filter;                // empty: the jail's filter with --config/--jail, else "exim"
    std::filesystem::path filters_dir; // empty: the default search
    bool print_missed = false;
    bool json = false;
    // Replay the hits through a jail's policy and list the bans it would make.
    bool bans = false;
    std::string jail;             // empty: the first enabled jail of the config
    std::filesystem::path config; // empty: no config, unless --jail asks for one
};

// The directory filters are looked up in: `explicit_dir` if given, else
// /etc/exim-ban/filters.d if it exists, else the source tree's filters/.
std::filesystem::path default_filters_dir(const std::filesystem::path& explicit_dir);

// Returns the process exit code: 0 after a scan, 1 when the config, the
// filter or the file cannot be loaded (the reason goes to `err`).
int run_test_command(const TestCommandOptions& options, std::ostream& out, std::ostream& err);

} // namespace exim_ban
