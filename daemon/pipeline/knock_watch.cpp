#include "pipeline/knock_watch.hpp"

namespace exim_ban {

std::vector<FirewallElement> knocking_elements(const std::vector<FirewallElement>& elements,
                                               const std::set<std::string, std::less<>>& extending,
                                               std::chrono::milliseconds horizon) {
    std::vector<FirewallElement> knocking;
    for (const auto& element : elements)
        if (element.packets > 0 && element.expires <= horizon && extending.contains(element.jail))
            knocking.push_back(element);
    return knocking;
}

} // namespace exim_ban
