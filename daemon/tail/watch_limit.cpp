#include "tail/watch_limit.hpp"

#include <cerrno>

namespace exim_ban {

std::optional<std::string_view> inotify_limit_sysctl(int error) {
    // inotify(7): ENOSPC from inotify_add_watch is the watch limit (or, in
    // theory, kernel memory), EMFILE from inotify_init1 the instance limit.
    switch (error) {
    case ENOSPC:
        return "fs.inotify.max_user_watches";
    case EMFILE:
        return "fs.inotify.max_user_instances";
    default:
        return std::nullopt;
    }
}

} // namespace exim_ban
