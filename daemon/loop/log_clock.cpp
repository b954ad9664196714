#include "loop/log_clock.hpp"

#include <ctime>

namespace exim_ban {

std::int64_t log_ms_at(std::chrono::system_clock::time_point instant) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(instant);
    std::tm local{};
    ::localtime_r(&seconds, &local);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(instant.time_since_epoch()).count();
    return ms + static_cast<std::int64_t>(local.tm_gmtoff) * 1000;
}

} // namespace exim_ban
