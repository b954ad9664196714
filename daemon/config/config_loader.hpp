// Loads exim-ban.conf: the file, then exim-ban.local beside it, then
// conf.d/*.conf beside it in name order; a later value wins key by key.
// [DEFAULT] holds the global settings and the jails' defaults; every other
// section is a jail.
#pragma once

#include "config/config.hpp"
#include "core/ip_prefix.hpp"
#include "filter/text_file_reader.hpp"

#include <filesystem>
#include <string_view>
#include <vector>

namespace exim_ban {

inline constexpr const char* default_config_file = "/etc/exim-ban/exim-ban.conf";

// Throws LoadError with file:line and what to do for: a missing main file,
// an unknown section key, a bad value (duration, number, boolean, CIDR,
// port, path), a jail name that cannot name an nft set, a missing filter, an
// enabled jail without logpath. `own_addresses` are ignored by jails with
// ignoreself. A missing `file:` host list is a warning, not an error.
Config load_config(const std::filesystem::path& file, const TextFileReader& files,
                   const std::vector<IpPrefix>& own_addresses);

} // namespace exim_ban
