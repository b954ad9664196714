// Streams a log file through a filter (the I/O half of the scanner).
#pragma once

#include "core/line_matcher.hpp"
#include "scan/scan_report.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace exim_ban {

using MissedLineSink = std::function<void(std::string_view line)>;

// Reads `path` in large chunks ("-" is standard input). Throws
// std::system_error naming the file when it cannot be opened or read.
// `on_missed`, when set, sees every missed line as it passes.
ScanReport scan_log(const std::string& path, const LineMatcher& matcher,
                    const MissedLineSink& on_missed);

} // namespace exim_ban
