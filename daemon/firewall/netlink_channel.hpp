// The netlink channel to nf_tables as the nftables backend uses it: one
// datagram of messages out (a batch or a request), datagrams of replies
// back. The one abstract class under NftablesFirewall: NetlinkSocket is the
// kernel's, testing::ScriptedNetlink (test/support/scripted_netlink.hpp) a
// scripted one. Reading the replies (error reports, acks, dumps) is the
// same for both and lives here.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

struct nlmsghdr;

namespace exim_ban {

class NetlinkChannel {
  public:
    virtual ~NetlinkChannel() = default;

    // The first of `count` consecutive sequence numbers, none used before.
    virtual std::uint32_t reserve_sequence(std::uint32_t count) = 0;

    struct BatchReply {
        int socket_error = 0; // sending or reading failed: the outcome is unknown
        std::vector<std::pair<std::uint32_t, int>> errors; // (sequence, errno) per refused message
    };
    // Sends a whole batch (begin message to end message) at once. The
    // kernel applies it all or nothing and reports an error per refused
    // message, in any order; no errors means applied.
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

  protected:
    struct Received {
        int error = 0;                  // an errno value; EAGAIN: nothing (more) to read
        std::span<const char> messages; // valid until the next call
    };

  private:
    // Sends `messages` as one datagram, after dropping replies left over
    // from an earlier exchange. Returns 0 or an errno value.
    virtual int send(std::span<const char> messages) = 0;
    // The next datagram of replies. `wait` false: EAGAIN at once when none
    // is queued (a batch's reports are all queued when send() returns);
    // true: waits for one, EAGAIN when none came in time.
    virtual Received receive(bool wait) = 0;
    // The address replies are sent to (checked on request replies).
    virtual std::uint32_t port_id() const = 0;
};

} // namespace exim_ban
