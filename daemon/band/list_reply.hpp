// The reply to `list` (see exim-banctl(8)), made of what was read: pure, so
// that it can be made off the daemon's thread.
#pragma once

#include "firewall/firewall.hpp"
#include "store/ban_list_reader.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace exim_ban {

// The reply line, as encode_reply would make it of the reply object (the
// same bytes; written directly, since 100,000 bans as JSON objects take a
// second). `bans`: the active bans, oldest start first; `kernel`: the
// firewall's elements, sorted as list() returns them (their packet counts);
// `jails`: the names of the jails asked for; `now_ms`: log time. A key
// banned twice in a jail (a knock renewal, a manual ban of a banned key) is
// listed once, with the ban that ends last. A failed read is
// {"ok":false,"error":"list failed: ..."}; a kernel that could not be read
// adds "firewall_error".
std::string list_reply(const StoreRead<std::vector<ListedBan>>& bans, const ListResult& kernel,
                       const std::vector<std::string>& jails, std::int64_t now_ms);

} // namespace exim_ban
