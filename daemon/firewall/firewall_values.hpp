// The values the Firewall interface (firewall.hpp) passes: bans in and as
// the kernel holds them, per-element failures, commit and list results.
// Plain data.
#pragma once

#include "core/ban_key.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace exim_ban {

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

} // namespace exim_ban
