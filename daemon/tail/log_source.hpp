// A source of log lines as the pipeline sees it: it hands lines on to a
// TailSink and says, when asked, where it has handed them on to. That
// position is opaque to the pipeline: it goes unread into the store's
// commit with what was made of those lines, and a restart resumes the
// source from it. The Tailer is the source of files (a LogPosition is a
// file's identity and an offset); another kind of source (the systemd
// journal) implements the same three calls.
#pragma once

#include "core/log_position.hpp"

#include <vector>

namespace exim_ban {

class LogSource {
  public:
    virtual ~LogSource() = default;
    // Where the source is, just past the last line handed on: what the
    // store commits with those lines and a restart resumes from.
    virtual std::vector<LogPosition> positions() const = 0;
    // No line is handed on after pause() until resume(); what was read
    // meanwhile is handed on after resume(), none lost. Callable from
    // TailSink::on_line, the line handed on being the last.
    virtual void pause() = 0;
    virtual void resume() = 0;
};

} // namespace exim_ban
