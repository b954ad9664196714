#include "band/log_lag.hpp"

#include <sys/stat.h>

namespace exim_ban {

std::optional<LogLag> log_lag(const LogPosition& position) {
    struct stat st {};
    if (::stat(position.path.c_str(), &st) != 0)
        return std::nullopt;
    const auto size = static_cast<std::uint64_t>(st.st_size);
    // Only the inode is compared, as the status has always shown it; a
    // file shorter than the position (truncated, not read again yet) is no
    // lag either.
    const bool behind = st.st_ino == position.inode && size > position.offset;
    return LogLag{size, behind ? size - position.offset : 0};
}

} // namespace exim_ban
