// The nftables backend: table inet exim_ban through libnftnl and libmnl,
// one netlink batch per commit, no `nft` process and no shell. The kernel
// expires bans by itself (per-element timeouts) and counts the packets each
// element blocks.
#pragma once

#include "firewall/batch_retry.hpp"
#include "firewall/firewall.hpp"
#include "firewall/firewall_jail.hpp"
#include "firewall/staged_changes.hpp"

#include <memory>
#include <string>
#include <vector>

namespace exim_ban {

class NetlinkSocket;

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
    struct Structure {
        bool pending = false;                // to be sent with the next batch
        std::vector<std::string> stale_sets; // to delete
    };
    // Reads and judges the table, so that the next batch can repair it;
    // returns what is in the way instead, if anything is.
    std::optional<FirewallFault> plan_structure(Structure& structure);
    // One batch: the structure if pending, then `writes`.
    BatchAttempt send_batch(std::span<const ElementWrite> writes, Structure& structure,
                            bool& set_missing);
    // Sends with retry (repairing the table once if a set has gone) and
    // reports as commit() does.
    CommitResult send_writes(std::vector<ElementWrite> writes, Structure& structure,
                             std::vector<ElementFailure> failures);

    std::unique_ptr<NetlinkSocket> socket_;
    StagedChanges staged_;
};

} // namespace exim_ban
