// What table inet exim_ban holds besides elements, as read from the kernel:
// the input of table_check. Plain data.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace exim_ban {

struct SetSnapshot {
    std::string name;
    std::uint32_t flags = 0;    // NFT_SET_*
    std::uint32_t key_type = 0; // nft's datatype: 7 ipv4_addr, 8 ipv6_addr
    std::uint32_t key_length = 0;
    std::uint64_t default_timeout_ms = 0;
    std::vector<std::string> expressions; // per element, e.g. "counter"
    std::string comment;
};

struct ChainSnapshot {
    std::string name;
    bool base = false; // has a hook
    std::uint32_t hook = 0;
    std::int32_t priority = 0;
    std::string type; // "filter", "nat", "route"
};

struct TableSnapshot {
    bool exists = false;
    std::uint32_t flags = 0;            // NFT_TABLE_F_*
    std::optional<std::uint32_t> owner; // netlink port id of an owning process
    std::vector<SetSnapshot> sets;
    std::vector<ChainSnapshot> chains;
};

} // namespace exim_ban
