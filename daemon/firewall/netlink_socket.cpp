#include "firewall/netlink_socket.hpp"

#include "firewall/firewall_setup_error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>

namespace exim_ban {
namespace {

// Error reports are small (NETLINK_CAP_ACK), but a refused batch of many
// messages queues one each; a receive buffer that overflows would lose them.
constexpr int receive_buffer_bytes = 8 << 20;

void set_buffer(int fd, int force_option, int option, int bytes) {
    // The *FORCE options pass the system limit and need CAP_NET_ADMIN,
    // which nf_tables needs anyway; without it the plain option gets what
    // the limit allows and the kernel's refusal comes later, clearly.
    if (setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof bytes) != 0)
        setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes);
}

} // namespace

NetlinkSocket::NetlinkSocket()
    : receive_buffer_(64 << 10) { // above the 32 KB of a netlink dump message
    socket_ = mnl_socket_open(NETLINK_NETFILTER);
    if (socket_ == nullptr) {
        const int error = errno;
        throw FirewallSetupError("cannot open a netfilter netlink socket (" +
                                 std::string(std::strerror(error)) +
                                 "): this kernel has no nfnetlink/nf_tables; load them "
                                 "with `modprobe nf_tables` or use the dry-run firewall");
    }
    if (mnl_socket_bind(socket_, 0, MNL_SOCKET_AUTOPID) < 0) {
        const int error = errno;
        mnl_socket_close(socket_);
        throw FirewallSetupError("cannot bind a netfilter netlink socket: " +
                                 std::string(std::strerror(error)));
    }
    port_id_ = mnl_socket_get_portid(socket_);
    next_sequence_ = static_cast<std::uint32_t>(std::time(nullptr));

    const int fd = mnl_socket_get_fd(socket_);
    int on = 1;
    // Error reports without a copy of the refused message, which can be
    // tens of kilobytes of elements.
    mnl_socket_setsockopt(socket_, NETLINK_CAP_ACK, &on, sizeof on);
    set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, receive_buffer_bytes);
    // The kernel always answers a request; a reply that never comes must
    // not hang the daemon all the same.
    const timeval timeout{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

NetlinkSocket::~NetlinkSocket() {
    mnl_socket_close(socket_);
}

std::uint32_t NetlinkSocket::reserve_sequence(std::uint32_t count) {
    const std::uint32_t first = next_sequence_;
    next_sequence_ += count;
    return first;
}

void NetlinkSocket::ensure_send_buffer(std::size_t bytes) {
    // netlink refuses a message larger than the send buffer, and a batch is
    // one message to the socket.
    const std::size_t wanted = bytes + (64 << 10);
    if (wanted <= send_buffer_)
        return;
    const int size = static_cast<int>(std::min<std::size_t>(wanted, 1u << 30));
    set_buffer(mnl_socket_get_fd(socket_), SO_SNDBUFFORCE, SO_SNDBUF, size);
    send_buffer_ = wanted;
}

void NetlinkSocket::drain() {
    // Replies left over from an earlier exchange would carry old sequence
    // numbers and confuse the next one.
    const int fd = mnl_socket_get_fd(socket_);
    while (recv(fd, receive_buffer_.data(), receive_buffer_.size(), MSG_DONTWAIT) > 0) {
    }
}

int NetlinkSocket::send(std::span<const char> messages) {
    drain();
    ensure_send_buffer(messages.size());
    return mnl_socket_sendto(socket_, messages.data(), messages.size()) < 0 ? errno : 0;
}

NetlinkChannel::Received NetlinkSocket::receive(bool wait) {
    while (true) {
        // A request's reply is waited for (SO_RCVTIMEO bounds it); a
        // batch's reports are queued before send() returns.
        const ssize_t received =
            wait ? mnl_socket_recvfrom(socket_, receive_buffer_.data(), receive_buffer_.size())
                 : recv(mnl_socket_get_fd(socket_), receive_buffer_.data(), receive_buffer_.size(),
                        MSG_DONTWAIT);
        if (received >= 0)
            return {0, {receive_buffer_.data(), static_cast<std::size_t>(received)}};
        if (errno != EINTR)
            return {errno, {}};
    }
}

} // namespace exim_ban
