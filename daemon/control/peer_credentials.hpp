// Who is at the other end of a Unix socket: the kernel's SO_PEERCRED
// (taken when the peer connected, so it cannot be forged by what the peer
// sends) and the groups the account database gives that user.
#pragma once

#include <optional>
#include <sys/types.h>
#include <vector>

namespace exim_ban {

struct PeerCredentials {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
};

struct PeerCredentialsRead {
    std::optional<PeerCredentials> credentials; // nullopt: `error` says why
    int error = 0;                              // errno of getsockopt
};

// SO_PEERCRED of the connected Unix socket `fd`.
PeerCredentialsRead read_peer_credentials(int fd);

// `gid` and the supplementary groups of `uid`'s passwd entry
// (getpwuid_r + getgrouplist). A uid with no passwd entry, or one the
// lookup fails for, has `gid` only: a failed lookup grants less, never more.
// May block on the name service (NSS); called only for non-root peers whose
// primary group is not the control group.
std::vector<gid_t> groups_of(uid_t uid, gid_t gid);

} // namespace exim_ban
