// The one rule for a jail's name, shared by exim-ban.conf, the fail2ban
// import and the firewall: the name becomes part of nftables set names.
#pragma once

#include <string_view>

namespace exim_ban {

// Whether `name` may name a jail: [a-z][a-z0-9_]{0,23}, so that the
// nftables sets NAME_v4 and NAME_v6 can be made.
bool is_jail_name(std::string_view name);

} // namespace exim_ban
