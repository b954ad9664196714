// Delays between retries of a file that cannot be opened or read: 1 s,
// doubling, at most 30 s, so that a log made readable again is followed
// soon and a broken one costs little. Pure.
#pragma once

#include <algorithm>
#include <chrono>

namespace exim_ban {

class RetryBackoff {
  public:
    static constexpr std::chrono::milliseconds first = std::chrono::seconds(1);
    static constexpr std::chrono::milliseconds longest = std::chrono::seconds(30);

    // The delay before the next retry; each call doubles the one after.
    std::chrono::milliseconds next() {
        const auto delay = delay_;
        delay_ = std::min(delay_ * 2, longest);
        return delay;
    }
    // After a success: the next failure is retried after `first` again.
    void reset() { delay_ = first; }

  private:
    std::chrono::milliseconds delay_ = first;
};

} // namespace exim_ban
