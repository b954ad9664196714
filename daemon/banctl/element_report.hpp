// The kernel's bans as `exim-banctl nft-list` prints them: a text table for
// people, or one JSON object.
#pragma once

#include "firewall/firewall.hpp"

#include <nlohmann/json.hpp>
#include <ostream>

namespace exim_ban {

// One line per element (jail, element, time left, timeout, packets and
// bytes blocked) under a header, then a count; a line saying so when there
// is no table.
void print_element_table(std::ostream& out, const ListResult& listing);

// {"table": "inet exim_ban", "present": bool, "elements": [{"jail", "element",
// "family" ("ipv4"|"ipv6"), "expires", "timeout" (seconds, rounded up),
// "packets", "bytes"}]}
nlohmann::json element_json(const ListResult& listing);

} // namespace exim_ban
