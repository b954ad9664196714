#include "firewall/reconcile_plan.hpp"

#include <algorithm>
#include <tuple>

namespace exim_ban {
namespace {

bool same_element(const PlannedElement& a, const PlannedElement& b) {
    return a.jail == b.jail && a.element == b.element;
}

bool element_less(const PlannedElement& a, const PlannedElement& b) {
    return std::tie(a.jail, a.element) < std::tie(b.jail, b.element);
}

// Sorted, one entry per element, the longest time left kept.
void normalise(std::vector<PlannedElement>& elements) {
    std::sort(elements.begin(), elements.end(), [](const auto& a, const auto& b) {
        return std::tie(a.jail, a.element, b.remaining) < std::tie(b.jail, b.element, a.remaining);
    });
    elements.erase(std::unique(elements.begin(), elements.end(), same_element), elements.end());
}

} // namespace

ReconcilePlan plan_reconcile(std::vector<PlannedElement> wanted,
                             std::vector<PlannedElement> present,
                             std::chrono::milliseconds tolerance) {
    std::erase_if(wanted, [](const PlannedElement& e) { return e.remaining.count() <= 0; });
    normalise(wanted);
    normalise(present);

    ReconcilePlan plan;
    auto w = wanted.begin();
    auto p = present.begin();
    while (w != wanted.end() || p != present.end()) {
        if (p == present.end() || (w != wanted.end() && element_less(*w, *p))) {
            plan.add.push_back(*w++);
        } else if (w == wanted.end() || element_less(*p, *w)) {
            plan.remove.push_back(*p++);
        } else {
            const auto difference = w->remaining - p->remaining;
            if (difference > tolerance || difference < -tolerance)
                plan.renew.push_back(*w);
            else
                ++plan.kept;
            ++w;
            ++p;
        }
    }
    return plan;
}

} // namespace exim_ban
