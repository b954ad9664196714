// The keys trusted now (see core/trust_book.hpp) as the text of an Exim
// host-list file that the ACLs read with `net-iplsearch;FILE`, as the seed's
// ACCESS_ALLOW_FILE: one key a line, sorted, each once. An IPv4 key is its
// address; an IPv6 key is its prefix in quotes ("2001:db8:1:2::/64"), as
// iplsearch needs, since its first colon would otherwise end the key. Pure.
#pragma once

#include "core/ban_key.hpp"

#include <string>
#include <vector>

namespace exim_ban {

std::string trust_list_text(std::vector<BanKey> keys);

} // namespace exim_ban
