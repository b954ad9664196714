// The nftables backend: table inet exim_ban through libnftnl and libmnl,
// one netlink batch per commit, no `nft` process and no shell. The kernel
// expires bans by itself (per-element timeouts) and counts the packets each
// element blocks.
#pragma once

#include "firewall/batch_plan.hpp"
#include "firewall/batch_retry.hpp"
#include "firewall/firewall.hpp"
#include "firewall/firewall_jail.hpp"

#include <memory>
#include <string>
#include <vector>

namespace exim_ban {

class NetlinkChannel;

class NftablesFirewall final : public Firewall {
  public:
    // Opens the netlink socket; reads and changes nothing yet. Throws
    // FirewallSetupError when the kernel offers no netfilter netlink.
    NftablesFirewall();
    // Talks to nf_tables through `channel` (tests: a scripted one).
    explicit NftablesFirewall(std::unique_ptr<NetlinkChannel> channel);
    ~NftablesFirewall() override;

    void setup(const std::vector<FirewallJail>& jails) override;
    CommitResult commit() override;
    ListResult list() override;
    CommitResult reconcile(const std::vector<ActiveBan>& bans) override;
    std::optional<FirewallFault> remove_all() override;

  private:
    // Reads and judges the table, so that the next batch can repair it;
    // returns what is in the way instead, if anything is.
    std::optional<FirewallFault> plan_repair(std::optional<TableRepair>& repair);
    // One batch: the repair if any (done: reset), then `writes`.
    BatchAttempt send_batch(std::span<const ElementWrite> writes,
                            std::optional<TableRepair>& repair, bool& set_missing);
    // Sends with retry (repairing the table once if a set has gone) and
    // reports as commit() does.
    CommitResult send_writes(std::vector<ElementWrite> writes, std::optional<TableRepair>& repair,
                             std::vector<ElementFailure> failures);

    std::unique_ptr<NetlinkChannel> channel_;
};

} // namespace exim_ban
