// The jails' logpath values as files to follow.
#pragma once

#include <string>
#include <vector>

namespace exim_ban {

struct ExpandedLogPaths {
    std::vector<std::string> paths;    // each once, in the order first named
    std::vector<std::string> warnings; // globs that matched nothing
};

// A path with glob characters (* ? [) becomes the files it matches now, in
// name order; one without stays as written, whether or not it exists yet
// (the tailer waits for it).
ExpandedLogPaths expand_log_paths(const std::vector<std::string>& patterns);

} // namespace exim_ban
