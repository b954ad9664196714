#include "scan/log_scan.hpp"

#include "core/line_splitter.hpp"
#include "core/log_reader.hpp"
#include "core/session_attempts.hpp"
#include "loop/log_clock.hpp"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace exim_ban {
namespace {

constexpr std::size_t chunk_bytes = 1 << 20;

// "Now" for a syslog date without a year, in log time (local wall-clock
// seconds counted as if UTC): when the file was last written, so that an
// old rotated log keeps its year; the present for a pipe.
std::int64_t log_seconds_now_for(int fd) {
    struct stat status {};
    auto when = std::chrono::system_clock::now();
    if (::fstat(fd, &status) == 0 && S_ISREG(status.st_mode))
        when = std::chrono::system_clock::from_time_t(status.st_mtime);
    return log_ms_at(when) / 1000;
}

} // namespace

LogFile::LogFile(const std::string& path)
    : path_(path)
    , fd_(path == "-" ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0)
        throw std::system_error(errno, std::generic_category(), "cannot open " + path);
}

LogFile::~LogFile() {
    // Standard input stays open.
    if (fd_ > 0)
        ::close(fd_);
}

ScanReport scan_log(const LogFile& file, const LineMatcher& matcher, LogFormat format,
                    const MissedLineSink& on_missed, JailJudge* judge) {
    const int fd = file.fd();
    const std::string& path = file.path();
#ifdef POSIX_FADV_SEQUENTIAL
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif

    const auto started = std::chrono::steady_clock::now();
    ScanReport report(matcher.pattern_count());
    LineSplitter splitter;
    const std::int64_t now = log_seconds_now_for(fd);
    LogReader reader(format, [now] { return now; });
    SessionAttempts sessions;
    auto on_line = [&](std::string_view line, bool cut) {
        if (count_line(matcher, reader, sessions, line, cut, report, judge) ==
                LineOutcome::missed &&
            on_missed)
            on_missed(line);
    };
    const auto buffer = std::make_unique<char[]>(chunk_bytes);
    while (true) {
        const ssize_t got = ::read(fd, buffer.get(), chunk_bytes);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            throw std::system_error(errno, std::generic_category(), "cannot read " + path);
        }
        if (got == 0)
            break;
        splitter.feed(std::string_view(buffer.get(), static_cast<std::size_t>(got)), on_line);
    }
    splitter.finish(on_line);
    report.dropped_parts += reader.finish();
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return report;
}

} // namespace exim_ban
