// The kernel's inotify limits, as the tailer meets them: a watch refused
// because a per-user limit is reached is no broken log, so the log is
// polled at a short fixed interval (not retried with the tailer's growing
// backoff) until a watch can be added again. Pure.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace exim_ban {

// How often a log that cannot be watched because of a limit is looked at.
// It is how long a hit may wait before the daemon reads it; 250 ms keeps a
// ban well under a second late, and costs a few fstat() calls per second
// per log.
inline constexpr std::chrono::milliseconds watch_limit_poll_interval{250};

// The sysctl to raise when `error` (an errno of inotify_init1 or
// inotify_add_watch) says a limit is reached: ENOSPC is the per-user watch
// limit, EMFILE the per-user instance limit (or the process's open files).
// nullopt for any other error.
std::optional<std::string_view> inotify_limit_sysctl(int error);

} // namespace exim_ban
