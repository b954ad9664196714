// Who may send which command on the control socket. Pure: the peer's
// credentials and groups are looked up by peer_credentials.
#pragma once

#include "control/control_request.hpp"
#include "control/peer_credentials.hpp"

#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace exim_ban {

// change: uid 0 only. read: uid 0, or a peer whose primary gid or one of
// `peer_groups` (its supplementary groups) is `control_gid`.
bool may_access(Access access, const PeerCredentials& peer, gid_t control_gid,
                const std::vector<gid_t>& peer_groups);

// Why may_access refused `cmd`, for the error reply, e.g.
// `permission denied: "ban" changes state and needs root; you are uid 1000`.
// `group_name`: the control group as the administrator knows it.
std::string access_refusal(std::string_view cmd, Access access, const PeerCredentials& peer,
                           std::string_view group_name);

} // namespace exim_ban
