// Tells systemd how the service is doing (Type=notify): ready, reloading,
// stopping, a status line, and the watchdog's keep-alive. Does nothing when
// not run by systemd (no NOTIFY_SOCKET).
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace exim_ban {

class SystemdNotifier {
  public:
    void ready(const std::string& status) const;
    void reloading() const;
    void stopping() const;
    void status(const std::string& status) const;
    void watchdog() const;
    // How often to call watchdog(): half of WatchdogSec, or nullopt when the
    // unit sets none.
    std::optional<std::chrono::microseconds> watchdog_interval() const;
};

} // namespace exim_ban
