// What to do next with a followed path, from the open file's facts and what
// the path names now. Pure: the tailer gathers the facts (fstat, stat, a
// read of the head) and acts on the answer.
#pragma once

#include "tail/file_identity.hpp"

#include <cstdint>
#include <optional>

namespace exim_ban {

struct OpenFileFacts {
    FileId id;
    std::uint64_t size = 0;          // as fstat tells now
    std::uint64_t read_position = 0; // the next byte the tailer would read
    bool head_unchanged = true;      // its first bytes still hash as when taken
    bool deleted = false;            // no name links to it any more
};

enum class FollowStep {
    read_on,        // there is more to read from the open file
    read_again,     // the open file was truncated: read it again from 0
    switch_to_path, // the open file is read to its end and the path names
                    // another file (renamed away, or deleted and re-created)
    let_go,         // the open file is deleted, read to its end, and the path
                    // names nothing yet: close it
    wait,           // at the end; nothing to do until something changes
};

// `at_path`: the file the path names now, nullopt when none (deleted or
// renamed away and not yet re-created, or not to be told). A truncation is
// seen first, so that bytes written after it are never read as the old
// file's continuation; the old file is finished before a switch. A renamed
// file is kept open while the path names nothing (its writers may still
// append until they notice); a deleted one is let go: Exim stops writing
// to a log whose name is gone at its next line, nobody else could read
// what is appended to it, and holding it would keep its disk space and pin
// its directory (whose deletion inotify reports only once it is closed).
FollowStep next_follow_step(const OpenFileFacts& open, const std::optional<FileId>& at_path);

} // namespace exim_ban
