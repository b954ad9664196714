// A LogSource for tests of the pipeline: one log whose position the test
// moves, and a flag saying whether the pipeline paused it.
#pragma once

#include "tail/log_source.hpp"

#include <vector>

namespace exim_ban::testing {

class FakeLogSource final : public LogSource {
  public:
    std::vector<LogPosition> positions() const override { return {position}; }
    void pause() override { paused = true; }
    void resume() override { paused = false; }

    LogPosition position{"/var/log/exim4/mainlog", 1, 2, "0:0000000000000000", 0};
    bool paused = false;
};

} // namespace exim_ban::testing
