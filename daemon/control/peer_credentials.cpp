#include "control/peer_credentials.hpp"

#include <cerrno>
#include <grp.h>
#include <pwd.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace exim_ban {
namespace {

// getpwuid_r and getgrouplist say "larger" without saying how large; the
// buffers grow to these bounds and the lookup gives up past them.
constexpr std::size_t max_passwd_buffer = std::size_t{1} << 20;
constexpr int max_groups = 1 << 16;

} // namespace

PeerCredentialsRead read_peer_credentials(int fd) {
    ucred peer{};
    socklen_t length = sizeof peer;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0)
        return {std::nullopt, errno};
    return {PeerCredentials{peer.pid, peer.uid, peer.gid}, 0};
}

std::vector<gid_t> groups_of(uid_t uid, gid_t gid) {
    std::string buffer(1024, '\0');
    passwd entry{};
    passwd* found = nullptr;
    while (true) {
        const int error = ::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found);
        if (error == ERANGE && buffer.size() < max_passwd_buffer) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (error != 0 || found == nullptr)
            return {gid};
        break;
    }
    std::vector<gid_t> groups(64);
    while (true) {
        int count = static_cast<int>(groups.size());
        if (::getgrouplist(entry.pw_name, gid, groups.data(), &count) >= 0) {
            groups.resize(static_cast<std::size_t>(count));
            return groups;
        }
        // -1 with count set to the number needed (glibc).
        if (count <= static_cast<int>(groups.size()) || count > max_groups)
            return {gid};
        groups.resize(static_cast<std::size_t>(count));
    }
}

} // namespace exim_ban
