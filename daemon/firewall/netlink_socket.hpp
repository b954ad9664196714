// A netfilter netlink socket (libmnl): sends nf_tables batches and
// requests, and reads back the kernel's replies and error reports.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

struct mnl_socket;
struct nlmsghdr;

namespace exim_ban {

class NetlinkSocket {
  public:
    // Throws FirewallSetupError when the kernel offers no netfilter netlink
    // socket (no nfnetlink, so no nf_tables either).
    NetlinkSocket();
    ~NetlinkSocket();
    NetlinkSocket(const NetlinkSocket&) = delete;
    NetlinkSocket& operator=(const NetlinkSocket&) = delete;

    // The first of `count` consecutive sequence numbers, none used before.
    std::uint32_t reserve_sequence(std::uint32_t count);

    struct BatchReply {
        int socket_error = 0; // sending or reading failed: the outcome is unknown
        std::vector<std::pair<std::uint32_t, int>> errors; // (sequence, errno) per refused message
    };
    // Sends a whole batch (begin message to end message) at once. The
    // kernel applies it all or nothing and reports an error per refused
    // message; no errors means applied.
    BatchReply send_batch(std::span<const char> batch);

    // Handles one reply message; returns false to ignore the rest of the
    // reply (it is still read to its end).
    using MessageHandler = std::function<bool(const nlmsghdr* message)>;
    // Sends one request message and hands each reply message to
    // `on_message` until the reply ends. Returns 0, the errno of the
    // kernel's error reply, or of the socket; EINTR when a dump was
    // interrupted by a change (ask again); ECANCELED when `on_message`
    // returned false.
    int request(std::span<const char> message, std::uint32_t sequence,
                const MessageHandler& on_message);

  private:
    void drain();
    void ensure_send_buffer(std::size_t bytes);

    mnl_socket* socket_ = nullptr;
    std::uint32_t port_id_ = 0;
    std::uint32_t next_sequence_ = 0;
    std::size_t send_buffer_ = 0;
    std::vector<char> receive_buffer_;
};

} // namespace exim_ban
