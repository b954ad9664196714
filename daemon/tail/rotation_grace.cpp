#include "tail/rotation_grace.hpp"

namespace exim_ban {

RotatedFileStep next_rotated_file_step(const RotatedFileFacts& facts, GraceClock::time_point now,
                                       std::chrono::milliseconds grace) {
    if (facts.size < facts.read_position || !facts.head_unchanged)
        return RotatedFileStep::let_go;
    if (facts.size > facts.read_position)
        return RotatedFileStep::read_on;
    // Exim stops writing to a file whose name is gone at its next line, and
    // nobody could read what is appended to it: holding it would only keep
    // its disk space.
    if (facts.deleted || now >= grace_ends(facts.last_growth, grace))
        return RotatedFileStep::let_go;
    return RotatedFileStep::wait;
}

GraceClock::time_point grace_ends(GraceClock::time_point last_growth,
                                  std::chrono::milliseconds grace) {
    return last_growth + grace;
}

std::optional<LogPosition> rotated_file_position(const LogPosition& committed) {
    if (!committed.rotated)
        return std::nullopt;
    const RotatedFilePosition& rotated = *committed.rotated;
    return LogPosition{committed.path,    rotated.device, rotated.inode,
                       rotated.head_hash, rotated.offset, std::nullopt};
}

} // namespace exim_ban
