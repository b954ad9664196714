#include "firewall/netlink_channel.hpp"

#include <cerrno>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>

namespace exim_ban {
namespace {

struct DumpState {
    const NetlinkChannel::MessageHandler* handler;
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

NetlinkChannel::BatchReply NetlinkChannel::send_batch(std::span<const char> batch) {
    BatchReply reply;
    if (const int error = send(batch); error != 0) {
        reply.socket_error = error;
        return reply;
    }
    // nfnetlink handles a batch inside sendmsg, so every report is queued
    // by now: read until nothing is left.
    while (true) {
        const Received received = receive(false);
        if (received.error != 0) {
            if (received.error != EAGAIN && received.error != EWOULDBLOCK)
                reply.socket_error = received.error; // ENOBUFS: reports were lost
            break;
        }
        auto length = static_cast<int>(received.messages.size());
        for (auto* message = reinterpret_cast<const nlmsghdr*>(received.messages.data());
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

int NetlinkChannel::request(std::span<const char> message, std::uint32_t sequence,
                            const MessageHandler& on_message) {
    if (const int error = send(message); error != 0)
        return error;
    DumpState state{&on_message};
    while (true) {
        const Received received = receive(true);
        if (received.error != 0)
            return received.error;
        const int run = mnl_cb_run(received.messages.data(), received.messages.size(), sequence,
                                   port_id(), on_reply, &state);
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
