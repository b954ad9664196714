// The difference between the bans the kernel holds and those it must hold,
// element by element: what reconcile() sends. Shared by every backend.
#pragma once

#include "firewall/batch_retry.hpp"
#include "firewall/element_key.hpp"
#include "firewall/firewall_values.hpp"
#include "firewall/staged_changes.hpp"

#include <chrono>
#include <cstddef>
#include <vector>

namespace exim_ban {

struct PlannedElement {
    std::size_t jail = 0; // an index into the firewall's jails
    ElementKey element;
    std::chrono::milliseconds remaining{0};
};

struct ReconcilePlan {
    std::vector<PlannedElement> add; // wanted, absent
    std::vector<PlannedElement>
        renew; // wanted, present with a time left off by more than the tolerance
    std::vector<PlannedElement> remove; // present, not wanted (remaining: the kernel's)
    std::size_t kept = 0;               // present and wanted, left alone
};

// `wanted` may name an element twice (the longest time left counts) and
// hold times left <= 0 (not wanted). The plan's lists are sorted by jail,
// then element.
ReconcilePlan plan_reconcile(std::vector<PlannedElement> wanted,
                             std::vector<PlannedElement> present,
                             std::chrono::milliseconds tolerance);

// The bans as elements of the jails `stage` holds; a ban of no such jail
// (ENOENT) or that no element can stand for (EINVAL) is appended to
// `failures` instead.
std::vector<PlannedElement> wanted_elements(const std::vector<ActiveBan>& bans,
                                            const StagedChanges& stage,
                                            std::vector<ElementFailure>& failures);

// The plan as writes in the order to send them: adds, renewals (robust:
// their elements are present), removes.
std::vector<ElementWrite> reconcile_writes(const ReconcilePlan& plan,
                                           const std::vector<FirewallJail>& jails);

} // namespace exim_ban
