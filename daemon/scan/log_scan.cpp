#include "scan/log_scan.hpp"

#include "core/line_splitter.hpp"
#include "core/log_reader.hpp"
#include "core/session_attempts.hpp"
#include "loop/log_clock.hpp"

#include <algorithm>
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

namespace {

void scan_one(const ScanInput& input, ScanReport& report, const MissedLineSink& on_missed,
              const HitJudging& judging) {
    const int fd = input.file.fd();
    const std::string& path = input.file.path();
#ifdef POSIX_FADV_SEQUENTIAL
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    LineSplitter splitter;
    const std::int64_t now = log_seconds_now_for(fd);
    LogReader reader(input.filter.format, [now] { return now; });
    SessionAttempts sessions;
    auto on_line = [&](std::string_view line, bool cut) {
        if (count_line(input.filter, reader, sessions, line, cut, report, judging) ==
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
}

} // namespace

ScanReport scan_logs(const std::vector<ScanInput>& inputs, std::size_t patterns,
                     const MissedLineSink& on_missed, JailJudge* judge) {
    const auto started = std::chrono::steady_clock::now();
    ScanReport report(patterns);
    // One log is judged as it is read; several only once all are, in log
    // time, as the daemon would have seen them arrive.
    std::vector<ScannedHit> kept;
    const bool replay = judge != nullptr && inputs.size() > 1;
    const HitJudging judging = replay ? HitJudging{nullptr, &kept} : HitJudging{judge, nullptr};
    for (const auto& input : inputs)
        scan_one(input, report, on_missed, judging);
    if (replay) {
        std::stable_sort(kept.begin(), kept.end(),
                         [](const ScannedHit& a, const ScannedHit& b) { return a.time < b.time; });
        for (const auto& hit : kept)
            judge_hit(*judge, hit.host, hit.time, report);
    }
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return report;
}

} // namespace exim_ban
