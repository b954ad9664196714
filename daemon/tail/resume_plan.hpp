// Where the rest of a log is, given a position committed earlier: still at
// the path, in a rotated file beside it (renamed: same device, inode and
// head; copied by copytruncate: same head, at least as long), or gone. Used
// at start-up for the positions a previous run committed, and for a file
// found truncated while followed (its copy holds what was not read yet).
#pragma once

#include "core/log_position.hpp"
#include "tail/file_identity.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace exim_ban {

struct CandidateFile {
    std::string path;
    FileId id;
    std::uint64_t size = 0;
    // Over as many bytes as the committed head hash covers; nullopt when
    // the file is shorter or cannot be read.
    std::optional<HeadHash> head;
};

struct ResumePlan {
    enum class Kind {
        continue_at_path, // the path names the committed file: read it from `offset`
        finish_rotated,   // `rotated` holds the rest: read it from `offset`, then the path from 0
        path_truncated,   // the path names the committed file, truncated: read it from 0
        rest_lost,        // the committed file is nowhere: read the path from 0
    };
    Kind kind = Kind::rest_lost;
    std::uint64_t offset = 0;
    CandidateFile rotated;        // finish_rotated: the file
    bool rotated_is_copy = false; // finish_rotated: a copy (copytruncate), not the file renamed
};

// Pure. `at_path`: what the path names now, nullopt when nothing;
// `siblings`: the other files beside it whose names start with its name, in
// the order to prefer. A committed head hash that does not parse makes the
// rest lost; one over 0 bytes matches no copy (it would match any file).
ResumePlan plan_resume(const LogPosition& committed, const std::optional<CandidateFile>& at_path,
                       const std::vector<CandidateFile>& siblings);

// Looks at the path and its siblings (sorted by name) on disk, then
// plan_resume. Files that cannot be opened are no candidates.
ResumePlan find_resume_plan(const LogPosition& committed);

} // namespace exim_ban
