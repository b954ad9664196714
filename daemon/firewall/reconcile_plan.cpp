#include "firewall/reconcile_plan.hpp"

#include <algorithm>
#include <cerrno>
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

std::vector<PlannedElement> wanted_elements(const std::vector<ActiveBan>& bans,
                                            const StagedChanges& stage,
                                            std::vector<ElementFailure>& failures) {
    std::vector<PlannedElement> wanted;
    wanted.reserve(bans.size());
    for (const auto& ban : bans) {
        const auto jail = stage.find_jail(ban.jail);
        if (!jail) {
            failures.push_back(ElementFailure{ElementChangeKind::add, ban.jail, ban.key, ENOENT,
                                              "no jail '" + ban.jail + "' in the firewall setup"});
            continue;
        }
        const int ipv6_prefix = stage.jails()[*jail].ipv6_prefix;
        const auto element = element_key(ban.key, ipv6_prefix);
        if (!element) {
            failures.push_back(ElementFailure{ElementChangeKind::add, ban.jail, ban.key, EINVAL,
                                              element_key_problem(ban.key, ipv6_prefix)});
            continue;
        }
        wanted.push_back(PlannedElement{*jail, *element, ban.remaining});
    }
    return wanted;
}

std::vector<ElementWrite> reconcile_writes(const ReconcilePlan& plan,
                                           const std::vector<FirewallJail>& jails) {
    std::vector<ElementWrite> writes;
    writes.reserve(plan.add.size() + plan.renew.size() + plan.remove.size());
    const auto write = [&](const PlannedElement& element, ElementChangeKind kind, bool robust) {
        // An element put in by hand may stand for no ban key (an
        // IPv4-mapped address): it is named by its bytes.
        const BanKey key =
            ban_key_of_element(element.element.data(), jails[element.jail].ipv6_prefix)
                .value_or(BanKey(IpAddress::from_v6(element.element.bytes), 128));
        const auto timeout =
            kind == ElementChangeKind::add ? element.remaining : std::chrono::milliseconds{0};
        writes.push_back({{kind, element.jail, key, element.element, timeout}, robust});
    };
    for (const auto& element : plan.add)
        write(element, ElementChangeKind::add, false);
    for (const auto& element : plan.renew)
        write(element, ElementChangeKind::add, true);
    for (const auto& element : plan.remove)
        write(element, ElementChangeKind::remove, false);
    return writes;
}

} // namespace exim_ban
