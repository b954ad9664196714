#include "band/log_setup.hpp"

#include <cstdio>
#include <cstdlib>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>
#include <string>
#include <sys/stat.h>
#include <syslog.h>

namespace exim_ban {

LogTarget detect_log_target() {
    // systemd sets JOURNAL_STREAM to "device:inode" of the stream it gave
    // us; it is ours only if stderr is still that stream.
    const char* stream = std::getenv("JOURNAL_STREAM");
    struct stat err {};
    if (stream == nullptr || ::fstat(2, &err) != 0)
        return LogTarget::terminal;
    const std::string expected = std::to_string(err.st_dev) + ":" + std::to_string(err.st_ino);
    return expected == stream ? LogTarget::journal : LogTarget::terminal;
}

void setup_logging(LogTarget target) {
    std::shared_ptr<spdlog::logger> logger;
    switch (target) {
    case LogTarget::journal:
        logger = std::make_shared<spdlog::logger>(
            "exim-band", std::make_shared<spdlog::sinks::systemd_sink_mt>("exim-band"));
        logger->set_pattern("%v");
        break;
    case LogTarget::syslog:
        logger = std::make_shared<spdlog::logger>(
            "exim-band", std::make_shared<spdlog::sinks::syslog_sink_mt>("exim-band", LOG_PID,
                                                                         LOG_DAEMON, false));
        logger->set_pattern("%v");
        break;
    case LogTarget::terminal:
        logger = std::make_shared<spdlog::logger>(
            "exim-band", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        logger->set_pattern("%Y-%m-%d %H:%M:%S.%e exim-band[%P] %l: %v");
        break;
    }
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
}

} // namespace exim_ban
