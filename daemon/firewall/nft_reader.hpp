// Reads table inet exim_ban back from the kernel (libnftnl parses the
// replies): its sets and chain as a TableSnapshot, a set's elements, and
// the IPv6 prefix each rule masks with. Reads nothing outside the table.
// Each function returns 0 or an errno value (ENOENT: no such object).
#pragma once

#include "firewall/element_key.hpp"
#include "firewall/table_snapshot.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace exim_ban {

class NetlinkChannel;

// table.exists is false (and 0 returned) when there is no table.
int read_table(NetlinkChannel& channel, TableSnapshot& table);

struct KernelElement {
    ElementKey key;
    std::chrono::milliseconds timeout{0};
    std::chrono::milliseconds expires{0};
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};
// The live elements of one set; elements of another length than the
// set's family are skipped.
int read_elements(NetlinkChannel& channel, const std::string& set, IpAddress::Family family,
                  std::vector<KernelElement>& elements);

// For each set the rules of chain input look up: the prefix length of the
// mask applied to the address before the lookup (128: none).
int read_lookup_prefixes(NetlinkChannel& channel, std::map<std::string, int>& prefixes);

} // namespace exim_ban
