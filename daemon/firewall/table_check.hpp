// Judges what table inet exim_ban holds against the jails to enforce,
// before anything is changed: objects in exim-ban's way stop the setup with
// a clear message; sets exim-ban made for jails that are gone are deleted;
// anything else someone put in the table is left as it is.
#pragma once

#include "firewall/firewall_jail.hpp"
#include "firewall/table_snapshot.hpp"

#include <string>
#include <vector>

namespace exim_ban {

struct TableCheck {
    std::vector<std::string> in_the_way; // one sentence each: the object and what is wrong
    std::vector<std::string> stale_sets; // exim-ban's sets of jails no longer described
    std::vector<std::string> left_alone; // "set NAME", "chain NAME": not exim-ban's, not in its way
};

TableCheck check_table(const TableSnapshot& table, const std::vector<FirewallJail>& jails);

// The properties exim-ban gives a jail's set (flags, key), so that a set it
// finds can be compared with the one it would make.
std::uint32_t jail_set_flags();
std::uint32_t jail_set_key_type(IpAddress::Family family);
std::uint32_t jail_set_key_length(IpAddress::Family family);

} // namespace exim_ban
