// The kernel's netlink channel: a netfilter netlink socket (libmnl).
#pragma once

#include "firewall/netlink_channel.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

struct mnl_socket;

namespace exim_ban {

class NetlinkSocket final : public NetlinkChannel {
  public:
    // Throws FirewallSetupError when the kernel offers no netfilter netlink
    // socket (no nfnetlink, so no nf_tables either).
    NetlinkSocket();
    ~NetlinkSocket() override;
    NetlinkSocket(const NetlinkSocket&) = delete;
    NetlinkSocket& operator=(const NetlinkSocket&) = delete;

    std::uint32_t reserve_sequence(std::uint32_t count) override;

  private:
    int send(std::span<const char> messages) override;
    Received receive(bool wait) override;
    std::uint32_t port_id() const override { return port_id_; }

    void drain();
    void ensure_send_buffer(std::size_t bytes);

    mnl_socket* socket_ = nullptr;
    std::uint32_t port_id_ = 0;
    std::uint32_t next_sequence_ = 0;
    std::size_t send_buffer_ = 0;
    std::vector<char> receive_buffer_;
};

} // namespace exim_ban
