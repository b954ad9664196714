// The kernel side of a ban: the interface the daemon drives (see
// README.md). A backend receives the jails to enforce and the daemon's bans
// and unbans; they are staged here alike for every backend, then the backend
// commits each batch at once and reports per element what the kernel
// refused. Backends: NftablesFirewall (netlink), DryRunFirewall (logs only);
// tests use testing::FakeFirewall.
#pragma once

#include "core/ban_key.hpp"
#include "firewall/firewall_values.hpp"
#include "firewall/staged_changes.hpp"

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

namespace exim_ban {

class Firewall {
  public:
    virtual ~Firewall() = default;

    // Makes table inet exim_ban hold, for each jail, sets JAIL_v4 and
    // JAIL_v6 and its rules in chain `input`, and nothing of exim-ban's for
    // other jails; elements of sets that stay are kept. Called at start-up
    // and on reload. Throws FirewallSetupError (what to do included) for an
    // invalid jail, no CAP_NET_ADMIN, no nf_tables, or an object in the
    // table that exim-ban did not make and cannot use.
    virtual void setup(const std::vector<FirewallJail>& jails) = 0;

    // Stage a change; nothing reaches the kernel before commit(). For one
    // element (a jail's key, IPv6 widened) the last staged change wins. `add` bans the key for
    // `timeout` from the commit: a key already banned gets the new timeout
    // and its counters restart. An IPv6 key is widened to the jail's
    // ipv6_prefix; an IPv4 network or an IPv6 network wider than that is
    // refused at commit. Every backend stages alike, so that all of them
    // refuse the same changes for the same reasons.
    void add(std::string_view jail, const BanKey& key, std::chrono::milliseconds timeout) {
        stage_.add(jail, key, timeout);
    }
    // Removing a key that is not banned is not a failure.
    void remove(std::string_view jail, const BanKey& key) { stage_.remove(jail, key); }

    // Applies every staged change in one batch and clears the stage. A
    // batch the kernel refuses is retried in parts, so that each refused
    // element is reported in `failures` and all others are applied. A set or
    // table deleted by hand meanwhile is made again first (and `repaired`
    // set: the caller owes the kernel a reconcile).
    virtual CommitResult commit() = 0;

    // What the kernel holds now; table_present is false when there is no
    // table inet exim_ban. Never changes anything.
    virtual ListResult list() = 0;

    // Makes the kernel hold exactly `bans` (remaining time <= 0: not at
    // all) for the jails of the last setup(), in one batch: missing ones
    // added, others removed, those whose time left is off by more than
    // reconcile_tolerance renewed; a table changed by hand is repaired.
    // Staged changes are left staged. Same result contract as commit().
    virtual CommitResult reconcile(const std::vector<ActiveBan>& bans) = 0;

    // Deletes table inet exim_ban and all it holds, and nothing else.
    // Returns nullopt when done or when there was no such table.
    virtual std::optional<FirewallFault> remove_all() = 0;

  protected:
    // What add() and remove() staged, for the jails setup() gives it.
    StagedChanges& stage() { return stage_; }
    const StagedChanges& stage() const { return stage_; }

  private:
    StagedChanges stage_;
};

} // namespace exim_ban
