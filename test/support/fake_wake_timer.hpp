// A WakeTimer for tests: it records each wait asked for; the test calls the
// callback itself after moving its clock.
#pragma once

#include "loop/wake_timer.hpp"

#include <vector>

namespace exim_ban::testing {

class FakeWakeTimer final : public WakeTimer {
  public:
    void wake_after(std::chrono::milliseconds after) override { requests.push_back(after); }
    std::vector<std::chrono::milliseconds> requests;
};

} // namespace exim_ban::testing
