// Streams a log file through a filter (the I/O half of the scanner).
#pragma once

#include "core/line_matcher.hpp"
#include "core/log_format.hpp"
#include "scan/scan_report.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace exim_ban {

class JailJudge;

using MissedLineSink = std::function<void(std::string_view line)>;

// An open log file ("-" is standard input); closed when destroyed.
class LogFile {
  public:
    // Throws std::system_error naming the file when it cannot be opened.
    explicit LogFile(const std::string& path);
    ~LogFile();
    LogFile(const LogFile&) = delete;
    LogFile& operator=(const LogFile&) = delete;

    int fd() const { return fd_; }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
    int fd_;
};

// Reads the file in large chunks to its end, its lines read as `format`
// says (the filter's logformat). Throws std::system_error naming the file
// on a read error. `on_missed`, when set, sees every missed line as it
// passes. With a `judge`, every hit also goes through the jail's policy.
ScanReport scan_log(const LogFile& file, const LineMatcher& matcher, LogFormat format,
                    const MissedLineSink& on_missed, JailJudge* judge = nullptr);

} // namespace exim_ban
