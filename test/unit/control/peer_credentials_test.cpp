#include "control/peer_credentials.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

using namespace exim_ban;

TEST_CASE("peer credentials: the kernel names the process at the other end", "[control]") {
    int pair[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
    const PeerCredentialsRead read = read_peer_credentials(pair[0]);
    REQUIRE(read.credentials);
    CHECK(read.error == 0);
    CHECK(read.credentials->pid == ::getpid());
    CHECK(read.credentials->uid == ::geteuid());
    CHECK(read.credentials->gid == ::getegid());
    REQUIRE(::close(pair[0]) == 0);
    REQUIRE(::close(pair[1]) == 0);
}

TEST_CASE("peer credentials: a descriptor that is no socket is an error value", "[control]") {
    int pipe_ends[2];
    REQUIRE(::pipe(pipe_ends) == 0);
    const PeerCredentialsRead read = read_peer_credentials(pipe_ends[0]);
    CHECK_FALSE(read.credentials);
    CHECK(read.error == ENOTSOCK);
    REQUIRE(::close(pipe_ends[0]) == 0);
    REQUIRE(::close(pipe_ends[1]) == 0);
}

TEST_CASE("peer credentials: a uid without a passwd entry has its primary gid only", "[control]") {
    CHECK(groups_of(3999999, 1234) == std::vector<gid_t>{1234});
}

TEST_CASE("peer credentials: root's groups come from the account database", "[control]") {
    const std::vector<gid_t> groups = groups_of(0, 0);
    CHECK(std::find(groups.begin(), groups.end(), gid_t{0}) != groups.end());
}
