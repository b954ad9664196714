// How far a watched log has been read: the file (by identity, so that a
// rotated or replaced file is told from the one at the path now) and the
// byte offset just past the last line handed on, or for the systemd journal
// the cursor of the last entry handed on. A source reports it, the store
// commits it with the hits of those lines, a restart resumes from it.
#pragma once

#include <cstdint>
#include <string>

namespace exim_ban {

struct LogPosition {
    std::string path; // the watched path, as configured (after glob expansion)
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    // "<n>:<16 hex digits>": n = min(file size, 256) when taken, then a
    // 64-bit hash of the file's first n bytes. Tells a new file that reuses
    // an inode from the old one.
    std::string head_hash;
    std::uint64_t offset = 0;
    // The journal's: sd-journal's cursor of the last entry handed on (path
    // then names the source, "journal:" and its match; device, inode,
    // head_hash and offset stay empty). Empty for a file, and for a journal
    // source that has handed nothing on yet.
    std::string cursor{};
};

} // namespace exim_ban
