// `exim-banctl check-config [--config FILE]` (also `exim-band --check`):
// loads the config and every jail's filter as the daemon would, and prints
// the effective settings with where each came from.
#pragma once

#include <filesystem>
#include <ostream>

namespace exim_ban {

// Returns 0 when everything loads, 1 when something does not (the reason,
// with its file and line, goes to `err`).
int run_check_config(const std::filesystem::path& config_file, std::ostream& out,
                     std::ostream& err);

} // namespace exim_ban
