// A one-shot timer a part arms to be called back (BanPipeline::on_wake,
// DnsblExport::on_wake) when something it waits for is due: a batch, a
// retry, a reconcile, a zone rewrite.
#pragma once

#include <algorithm>
#include <chrono>

namespace exim_ban {

class WakeTimer {
  public:
    virtual ~WakeTimer() = default;
    // Calls back no later than `after` from now; an earlier wake-up already
    // armed stays.
    virtual void wake_after(std::chrono::milliseconds after) = 0;
};

// The wait from `now` to `when` in whole milliseconds, 0 when it is past:
// what a part asks for when woken before it is due.
inline std::chrono::milliseconds until(std::chrono::steady_clock::time_point when,
                                       std::chrono::steady_clock::time_point now) {
    return std::max(std::chrono::milliseconds{0},
                    std::chrono::duration_cast<std::chrono::milliseconds>(when - now));
}

} // namespace exim_ban
