// How far a watched log has been read: the file (by identity, so that a
// rotated or replaced file is told from the one at the path now) and the
// byte offset just past the last line handed on, or for the systemd journal
// the cursor of the last entry handed on. A source reports it, the store
// commits it with the hits of those lines, a restart resumes from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace exim_ban {

// The file renamed away from a watched path by a rotation, while it is still
// followed for the lines that Exim processes which opened it before write to
// it late (see the tailer's rotation_grace), and how far it has been read.
struct RotatedFilePosition {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::string head_hash; // as LogPosition's
    std::uint64_t offset = 0;
};

struct LogPosition {
    std::string path; // the watched path, as configured (after glob expansion)
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    // "<n>:<16 hex digits>": n = min(file size, 256) when taken, then a
    // 64-bit hash of the file's first n bytes. Tells a new file that reuses
    // an inode from the old one.
    std::string head_hash;
    std::uint64_t offset = 0;
    // Set while the file the path named before its last rotation is still
    // followed: its unread rest is read after a restart too.
    std::optional<RotatedFilePosition> rotated{};
    // The journal's: sd-journal's cursor of the last entry handed on (path
    // then names the source, "journal:" and its match; device, inode,
    // head_hash and offset stay empty). Empty for a file, and for a journal
    // source that has handed nothing on yet.
    std::string cursor{};
};

} // namespace exim_ban
