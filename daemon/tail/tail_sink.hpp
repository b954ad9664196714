// What a log source feeds: the lines it reads, one at a time, on the
// io_context's thread. The pipeline is the daemon's sink.
#pragma once

#include <cstddef>
#include <string_view>

namespace exim_ban {

class TailSink {
  public:
    virtual ~TailSink() = default;
    // One line of log `log` (an index into the source's logs: the paths
    // given to the Tailer), without its '\n'; `cut`: it was longer than
    // max_line_bytes and this is its first max_line_bytes. When it returns,
    // the source's positions()[log] is past this line (in its `rotated`
    // part for a line written late to a rotated file). The sink may call the
    // source's pause() from here.
    virtual void on_line(std::size_t log, std::string_view line, bool cut) = 0;
    // Everything there was to read has been handed on (a burst of writes
    // ended): where a sink closes its batch early to keep latency low.
    // Called once after the start-up backlog (even an empty one), then once
    // after each burst that handed lines on; not while paused.
    virtual void on_caught_up() = 0;
};

} // namespace exim_ban
