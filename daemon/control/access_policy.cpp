#include "control/access_policy.hpp"

#include <algorithm>

namespace exim_ban {

bool may_access(Access access, const PeerCredentials& peer, gid_t control_gid,
                const std::vector<gid_t>& peer_groups) {
    if (peer.uid == 0)
        return true;
    if (access == Access::change)
        return false;
    return peer.gid == control_gid ||
           std::find(peer_groups.begin(), peer_groups.end(), control_gid) != peer_groups.end();
}

std::string access_refusal(std::string_view cmd, Access access, const PeerCredentials& peer,
                           std::string_view group_name) {
    const std::string quoted = "\"" + std::string(cmd) + "\"";
    const std::string you = "; you are uid " + std::to_string(peer.uid);
    if (access == Access::change)
        return "permission denied: " + quoted + " changes state and needs root" + you;
    return "permission denied: " + quoted + " needs root or group " + std::string(group_name) + you;
}

} // namespace exim_ban
