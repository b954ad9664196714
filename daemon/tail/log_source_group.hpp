// Several log sources as the one LogSource the pipeline commits from: the
// Tailer's files and the journal sources side by side. Its positions are
// theirs concatenated in the order added, which is also how their log
// indices are laid out: a source added after sources reporting k positions
// hands its lines on as logs k, k+1, ... (each source is given its first
// index when made), so the pipeline's routes map every index to its jails.
// Lines do not pass through it: each source feeds the sink directly, and
// the group costs a virtual call per source only when a batch commits.
#pragma once

#include "tail/log_source.hpp"

#include <vector>

namespace exim_ban {

class LogSourceGroup final : public LogSource {
  public:
    // `source` outlives the group. Each source reports the same number of
    // positions on every call (the Tailer one per path, a journal one).
    void add(LogSource& source) { sources_.push_back(&source); }

    std::vector<LogPosition> positions() const override;
    void pause() override;
    void resume() override;

  private:
    std::vector<LogSource*> sources_;
};

} // namespace exim_ban
