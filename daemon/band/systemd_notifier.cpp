#include "band/systemd_notifier.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

namespace exim_ban {
namespace {

void notify(const std::string& state) {
    // A failure to notify is not worth stopping for: systemd acts on the
    // missing notification itself (a start timeout, a watchdog restart).
    if (const int result = sd_notify(0, state.c_str()); result < 0)
        spdlog::warn("systemd: cannot notify {}: error {}", state, -result);
}

} // namespace

void SystemdNotifier::ready(const std::string& status) const {
    notify("READY=1\nSTATUS=" + status);
}

void SystemdNotifier::reloading() const {
    notify("RELOADING=1");
}

void SystemdNotifier::stopping() const {
    notify("STOPPING=1");
}

void SystemdNotifier::status(const std::string& status) const {
    notify("STATUS=" + status);
}

void SystemdNotifier::watchdog() const {
    notify("WATCHDOG=1");
}

std::optional<std::chrono::microseconds> SystemdNotifier::watchdog_interval() const {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return std::nullopt;
    return std::chrono::microseconds{usec / 2};
}

} // namespace exim_ban
