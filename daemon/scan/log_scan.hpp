// Streams a log file through a filter (the I/O half of the scanner).
#pragma once

#include "core/line_matcher.hpp"
#include "core/log_format.hpp"
#include "scan/scan_report.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

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

// A log and the filter its lines go through.
struct ScanInput {
    const LogFile& file;
    ScanFilter filter;
};

// Reads each file in large chunks to its end, through its filter (its
// lines read as the filter's logformat says), into one report of
// `patterns` patterns. Throws std::system_error naming the file on a read
// error. `on_missed`, when set, sees every missed line as it passes. With a
// `judge`, every hit also goes through the jail's policy: in the log's order
// for one log; for several (a jail's sources), once all are read, in log
// time (hits of the same second in the order read).
ScanReport scan_logs(const std::vector<ScanInput>& inputs, std::size_t patterns,
                     const MissedLineSink& on_missed, JailJudge* judge = nullptr);

// One log through one filter.
inline ScanReport scan_log(const LogFile& file, const LineMatcher& matcher, LogFormat format,
                           const MissedLineSink& on_missed, JailJudge* judge = nullptr) {
    return scan_logs({ScanInput{file, {matcher, format, 0}}}, matcher.pattern_count(), on_missed,
                     judge);
}

} // namespace exim_ban
