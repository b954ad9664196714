#include "tail/follow_decision.hpp"

namespace exim_ban {

FollowStep next_follow_step(const OpenFileFacts& open, const std::optional<FileId>& at_path) {
    if (open.size < open.read_position || !open.head_unchanged)
        return FollowStep::read_again;
    if (open.size > open.read_position)
        return FollowStep::read_on;
    if (at_path && *at_path != open.id)
        return FollowStep::switch_to_path;
    if (!at_path && open.deleted)
        return FollowStep::let_go;
    return FollowStep::wait;
}

} // namespace exim_ban
