// Prints a ScanReport: as text that mirrors fail2ban-regex's summary, so
// admins can read the two side by side, or as the one JSON object of
// DESIGN.md ("exim-banctl test --json").
#pragma once

#include "filter/loaded_filter.hpp"
#include "scan/scan_report.hpp"

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

namespace exim_ban {

// `with_bans` adds the "bans" array (exim-banctl test --bans).
nlohmann::json scan_report_json(const ScanReport& report, const LoadedFilter& filter,
                                bool with_bans = false);

void print_scan_header(std::ostream& out, const LoadedFilter& filter, const std::string& log_path);
void print_scan_report(std::ostream& out, const ScanReport& report, const LoadedFilter& filter,
                       bool with_bans = false);

} // namespace exim_ban
