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

struct DumpState {
    const NetlinkSocket::MessageHandler* handler;
    bool interrupted = false;
    bool cancelled = false;
};

int on_reply(const nlmsghdr* message, void* data) {
    auto& state = *static_cast<DumpState*>(data);
    if ((message->nlmsg_flags & NLM_F_DUMP_INTR) != 0)
        state.interrupted = true;
    if (!state.cancelled && !(*state.handler)(message))
        state.cancelled = true;
    return MNL_CB_OK;
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
                                     "with `modprobe nf_tables` or use the dry-run firewall",
                                 error);
    }
    if (mnl_socket_bind(socket_, 0, MNL_SOCKET_AUTOPID) < 0) {
        const int error = errno;
        mnl_socket_close(socket_);
        throw FirewallSetupError(
            "cannot bind a netfilter netlink socket: " + std::string(std::strerror(error)), error);
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

NetlinkSocket::BatchReply NetlinkSocket::send_batch(std::span<const char> batch) {
    BatchReply reply;
    drain();
    ensure_send_buffer(batch.size());
    if (mnl_socket_sendto(socket_, batch.data(), batch.size()) < 0) {
        reply.socket_error = errno;
        return reply;
    }
    // nfnetlink handles a batch inside sendmsg, so every report is queued
    // by now: read until the socket is empty.
    const int fd = mnl_socket_get_fd(socket_);
    while (true) {
        const ssize_t received =
            recv(fd, receive_buffer_.data(), receive_buffer_.size(), MSG_DONTWAIT);
        if (received < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                reply.socket_error = errno; // ENOBUFS: reports were lost
            break;
        }
        auto length = static_cast<int>(received);
        for (auto* message = reinterpret_cast<const nlmsghdr*>(receive_buffer_.data());
             mnl_nlmsg_ok(message, length); message = mnl_nlmsg_next(message, &length)) {
            if (message->nlmsg_type != NLMSG_ERROR)
                continue;
            const auto* report = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(message));
            if (report->error != 0)
                reply.errors.emplace_back(message->nlmsg_seq, -report->error);
        }
    }
    return reply;
}

int NetlinkSocket::request(std::span<const char> message, std::uint32_t sequence,
                           const MessageHandler& on_message) {
    drain();
    if (mnl_socket_sendto(socket_, message.data(), message.size()) < 0)
        return errno;
    DumpState state{&on_message};
    while (true) {
        const ssize_t received =
            mnl_socket_recvfrom(socket_, receive_buffer_.data(), receive_buffer_.size());
        if (received < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        const int run = mnl_cb_run(receive_buffer_.data(), static_cast<std::size_t>(received),
                                   sequence, port_id_, on_reply, &state);
        if (run == MNL_CB_ERROR)
            return errno;
        if (run == MNL_CB_STOP)
            break;
    }
    if (state.interrupted)
        return EINTR;
    return state.cancelled ? ECANCELED : 0;
}

} // namespace exim_ban
