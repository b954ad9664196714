// The nftables backend: table inet exim_ban through libnftnl and libmnl,
// one netlink batch per commit, no `nft` process and no shell. The kernel
// expires bans by itself (per-element timeouts) and counts the packets each
// element blocks.
#pragma once

#include "firewall/firewall.hpp"
#include "firewall/firewall_jail.hpp"
#include "firewall/staged_changes.hpp"

#include <memory>

namespace exim_ban {

class NetlinkSocket;
class NftBatch;
struct TableCheck;

class NftablesFirewall final : public Firewall {
  public:
    // Opens the netlink socket; reads and changes nothing yet. Throws
    // FirewallSetupError when the kernel offers no netfilter netlink.
    NftablesFirewall();
    ~NftablesFirewall() override;

    void setup(const std::vector<FirewallJail>& jails) override;
    void add(std::string_view jail, const BanKey& key, std::chrono::milliseconds timeout) override;
    void remove(std::string_view jail, const BanKey& key) override;
    CommitResult commit() override;
    ListResult list() override;
    CommitResult reconcile(const std::vector<ActiveBan>& bans) override;
    std::optional<FirewallFault> remove_all() override;

  private:
    struct Structure;
    // Reads and checks the table and builds the batch that makes it match
    // the jails; `problem` is set instead when something is in the way.
    std::optional<FirewallFault> plan_structure(Structure& structure);
    CommitResult send_writes(std::vector<struct ElementWrite> writes, bool with_structure);

    std::unique_ptr<NetlinkSocket> socket_;
    StagedChanges staged_;
};

} // namespace exim_ban
