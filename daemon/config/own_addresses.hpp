// The addresses of this host's interfaces, for ignoreself: exim-ban never
// bans the host it protects.
#pragma once

#include "core/ip_prefix.hpp"

#include <vector>

namespace exim_ban {

// Every address of every interface (getifaddrs), loopback included. Throws
// std::system_error when the kernel will not say.
std::vector<IpPrefix> own_addresses();

} // namespace exim_ban
