// bantime.knock_extend: which banned hosts are still knocking as their ban
// ends. The kernel counts, per set element, the packets a ban blocked (the
// counter restarts when the element is renewed); a host that sent any while
// banned is a repeater, as the seeds' admin found: the same addresses come
// back hour after hour, so the ban is renewed with the next escalated time
// instead of letting it lapse.
#pragma once

#include "firewall/firewall.hpp"

#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace exim_ban {

// How often the band service asks, and how close to its end a ban is
// renewed: a check may come late by up to one interval, so the horizon
// leaves two more before the kernel would drop the element and its counter.
inline constexpr std::chrono::seconds knock_check_interval{5};
inline constexpr std::chrono::seconds knock_horizon{3 * knock_check_interval};

// The elements of the jails named in `extending` that end within `horizon`
// and blocked at least one packet, in the order given.
std::vector<FirewallElement> knocking_elements(const std::vector<FirewallElement>& elements,
                                               const std::set<std::string, std::less<>>& extending,
                                               std::chrono::milliseconds horizon);

} // namespace exim_ban
