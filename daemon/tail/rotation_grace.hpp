// The file a rotation renamed away from a followed path, followed on for a
// grace period: an Exim process that opened the log before the rotation
// (a long SMTP session, a queue runner) writes its next lines to that file,
// since each process reopens the log on its own. The tailer reads it until it
// has been quiet for the grace period, then lets it go. Pure: the tailer
// gathers the facts and the time and acts on the answer.
#pragma once

#include "core/log_position.hpp"

#include <chrono>
#include <cstdint>

namespace exim_ban {

using GraceClock = std::chrono::steady_clock;

struct RotatedFileFacts {
    std::uint64_t size = 0;          // as fstat tells now
    std::uint64_t read_position = 0; // the next byte the tailer would read
    bool head_unchanged = true;      // its first bytes still hash as when taken
    bool deleted = false;            // no name links to it any more
    // When it last grew, or when the tailer left it for the path's new file.
    GraceClock::time_point last_growth;
};

enum class RotatedFileStep {
    read_on, // late lines to read
    wait,    // read to its end and quiet for less than the grace period
    let_go,  // quiet for the grace period, deleted and read to its end, or
             // truncated (what was cut away cannot be read any more): close it
};

// Reads on while there is something to read, whatever the time: a late line
// is never dropped for being late. A file shorter than the position, or
// with another head, was truncated or rewritten by someone else than Exim;
// it is let go rather than read again, since its new bytes are no late
// lines of the old period.
RotatedFileStep next_rotated_file_step(const RotatedFileFacts& facts, GraceClock::time_point now,
                                       std::chrono::milliseconds grace);

// When a file that last grew at `last_growth` is let go if nothing is
// written to it meanwhile.
GraceClock::time_point grace_ends(GraceClock::time_point last_growth,
                                  std::chrono::milliseconds grace);

// The position the rotated file of `committed` is at, as a position of the
// path (for find_resume_plan, which looks for it beside the path); nullopt
// when `committed` has no rotated file.
std::optional<LogPosition> rotated_file_position(const LogPosition& committed);

} // namespace exim_ban
