// What the pipeline needs of the tailer: where each log has been read to,
// and a brake for when the store cannot take more.
#pragma once

#include "core/log_position.hpp"

#include <vector>

namespace exim_ban {

class LogSource {
  public:
    virtual ~LogSource() = default;
    // Positions just past the last line handed on, one per followed log.
    virtual std::vector<LogPosition> positions() const = 0;
    // No line is handed on after pause() until resume(); callable while a
    // line is being handed on.
    virtual void pause() = 0;
    virtual void resume() = 0;
};

} // namespace exim_ban
