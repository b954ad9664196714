// A one-shot timer the pipeline arms to be called back (BanPipeline::on_wake)
// when a batch is due or a failed commit may be retried.
#pragma once

#include <chrono>

namespace exim_ban {

class WakeTimer {
  public:
    virtual ~WakeTimer() = default;
    // Calls back no later than `after` from now; an earlier wake-up already
    // armed stays.
    virtual void wake_after(std::chrono::milliseconds after) = 0;
};

} // namespace exim_ban
