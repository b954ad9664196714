// The kernel side of a ban: the one abstract class of firewall/ (see
// README.md). A backend receives the jails to enforce and the daemon's bans
// and unbans; it stages them, then commits each batch at once, and reports
// per element what the kernel refused. Backends: NftablesFirewall (netlink),
// DryRunFirewall (logs only); tests use testing::FakeFirewall.
#pragma once

#include "core/ban_key.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exim_ban {

struct FirewallJail;

enum class ElementChangeKind : std::uint8_t { add, remove };

// A ban as the kernel holds it, read back by list().
struct FirewallElement {
    std::string jail;
    BanKey key;                           // IPv6: the network of the jail's ipv6_prefix
    std::chrono::milliseconds timeout{0}; // as given when it was added
    std::chrono::milliseconds expires{0}; // time left
    std::uint64_t packets = 0;            // blocked since it was added
    std::uint64_t bytes = 0;
};

// A ban that must be in the kernel: what reconcile() receives from the store.
struct ActiveBan {
    std::string jail;
    BanKey key;
    std::chrono::milliseconds remaining{0};
};

// One staged change the kernel (or the backend's own checks) refused.
struct ElementFailure {
    ElementChangeKind change = ElementChangeKind::add;
    std::string jail;
    BanKey key;
    int error = 0;      // an errno value
    std::string reason; // names the element and what went wrong
};

// The kernel could not be reached (socket, permission) or the table is not
// usable; no element is to blame.
struct FirewallFault {
    int error = 0; // an errno value, 0 when none applies
    std::string message;
};

struct CommitResult {
    std::size_t added = 0; // elements added or renewed
    std::size_t removed = 0;
    std::vector<ElementFailure> failures;
    // Set: the kernel could not be reached or the table is unusable; only
    // what added/removed count was applied, the rest was dropped (the
    // store still has it; reconcile() restores it).
    std::optional<FirewallFault> fault;
    // A set or the table had been deleted by hand and was made again: the
    // bans it held are gone from the kernel (only this batch's are in it)
    // until a reconcile puts them back from the store.
    bool repaired = false;
    bool ok() const { return !fault && failures.empty(); }
};

struct ListResult {
    bool table_present = false;
    std::vector<FirewallElement> elements; // sorted by jail, then key
    std::optional<FirewallFault> fault;
};

// Reconcile keeps an element whose time left is within this of the wanted
// one, so that its counters survive a restart.
inline constexpr std::chrono::milliseconds reconcile_tolerance{5000};

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
    // refused at commit.
    virtual void add(std::string_view jail, const BanKey& key,
                     std::chrono::milliseconds timeout) = 0;
    // Removing a key that is not banned is not a failure.
    virtual void remove(std::string_view jail, const BanKey& key) = 0;

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
};

} // namespace exim_ban
