// The difference between the bans the kernel holds and those it must hold,
// element by element: what reconcile() sends.
#pragma once

#include "firewall/element_key.hpp"

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

} // namespace exim_ban
