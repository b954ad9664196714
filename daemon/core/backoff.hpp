// Waits between retries of something that failed: `first`, doubling, at
// most `longest`, so that a fault gone is noticed soon and a lasting one
// costs little. The tailer's reopen of an unreadable log (1 s to 30 s), the
// pipeline's retry of a refused commit (100 ms to max_backoff) and its
// reconcile of a failing firewall (100 ms to 2 s) each hold one. Pure.
#pragma once

#include <chrono>

namespace exim_ban {

class Backoff {
  public:
    // `first` is waited once even when it is longer than `longest`.
    Backoff(std::chrono::milliseconds first, std::chrono::milliseconds longest);

    // The wait before the next try; each call doubles the one after, up to
    // `longest`.
    std::chrono::milliseconds next();
    // After a success: the next failure waits `first` again.
    void reset();

  private:
    std::chrono::milliseconds first_;
    std::chrono::milliseconds longest_;
    std::chrono::milliseconds next_;
};

} // namespace exim_ban
