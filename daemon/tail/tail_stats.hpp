// What the tailer counts while it follows the logs, for `exim-banctl stats`.
#pragma once

#include <cstdint>

namespace exim_ban {

struct TailStats {
    std::uint64_t bytes = 0; // read (bytes read again after a pause count again)
    std::uint64_t lines = 0;
    std::uint64_t cut_lines = 0;
    std::uint64_t rotations = 0;   // renamed or replaced files followed
    std::uint64_t truncations = 0; // truncated files read again from 0
    std::uint64_t late_lines = 0;  // read from a renamed file after the path named a new one
    std::uint64_t read_errors = 0; // open/read/watch failures, retried

    // A reload replaces the tailer; the daemon's counts go on from the old one's.
    TailStats& operator+=(const TailStats& other) {
        bytes += other.bytes;
        lines += other.lines;
        cut_lines += other.cut_lines;
        rotations += other.rotations;
        truncations += other.truncations;
        late_lines += other.late_lines;
        read_errors += other.read_errors;
        return *this;
    }
};

} // namespace exim_ban
