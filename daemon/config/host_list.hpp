// Exim host-list files, as the seeds' whitelist_connect_hosts and relay
// lists: one IP address or CIDR network a line, '#' comments. Entries that
// are no address (host names, wildcards, lookups) cannot be used without DNS
// and are skipped with a warning.
#pragma once

#include "core/ip_prefix.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace exim_ban {

struct HostList {
    std::vector<IpPrefix> networks;
    std::vector<std::string> warnings; // "file:line: ..."
};

HostList parse_host_list(std::string_view text, const std::string& file);

} // namespace exim_ban
