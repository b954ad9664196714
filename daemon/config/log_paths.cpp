#include "config/log_paths.hpp"

#include <algorithm>
#include <glob.h>

namespace exim_ban {
namespace {

void add_once(std::vector<std::string>& paths, std::string path) {
    if (std::find(paths.begin(), paths.end(), path) == paths.end())
        paths.push_back(std::move(path));
}

} // namespace

ExpandedLogPaths expand_log_paths(const std::vector<std::string>& patterns) {
    ExpandedLogPaths expanded;
    for (const auto& pattern : patterns) {
        if (pattern.find_first_of("*?[") == std::string::npos) {
            add_once(expanded.paths, pattern);
            continue;
        }
        glob_t found{};
        const int result = ::glob(pattern.c_str(), GLOB_ERR, nullptr, &found);
        if (result == 0) {
            for (std::size_t i = 0; i < found.gl_pathc; ++i)
                add_once(expanded.paths, found.gl_pathv[i]);
        } else {
            expanded.warnings.push_back(
                "logpath " + pattern +
                (result == GLOB_NOMATCH ? " matches no file now" : " cannot be searched") +
                "; it is looked at again on reload");
        }
        ::globfree(&found);
    }
    return expanded;
}

} // namespace exim_ban
