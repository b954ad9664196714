// The messages of one nftables batch, in order: the table's structure when
// it is to be (re)made, then per set the steps of its element writes. Pure:
// NftablesFirewall turns each step into netlink messages.
#pragma once

#include "firewall/batch_retry.hpp"
#include "firewall/firewall_jail.hpp"
#include "firewall/nft_batch.hpp"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace exim_ban {

// What the batch must make of the table besides elements, as the table
// check found it: everything of the jails, then the sets of jails that are
// gone deleted.
struct TableRepair {
    std::vector<std::string> stale_sets;
};

struct BatchStep {
    enum class Kind : std::uint8_t {
        add_table,
        add_set,         // of `jail`, `family`
        add_input_chain, // and flush it
        add_jail_rules,  // of `jail`
        delete_set,      // `stale_set`
        elements,        // `operation` on `writes` in the set of `jail`, `family`
    };
    Kind kind = Kind::add_table;
    std::size_t jail = 0;
    IpAddress::Family family = IpAddress::Family::v4;
    std::string stale_set{};
    NftBatch::ElementOperation operation = NftBatch::ElementOperation::add;
    // Indices into the writes, at most NftBatch::max_elements_per_message.
    std::vector<std::size_t> writes{};
};

// Per set, robust writes first add their element (so that the delete that
// follows cannot miss), then come all deletes, then the exclusive adds of
// plain writes and the final adds of robust ones; an element appears once
// per step. Sets follow the jails' order, v4 before v6.
std::vector<BatchStep> plan_batch(const std::vector<FirewallJail>& jails,
                                  const std::optional<TableRepair>& repair,
                                  std::span<const ElementWrite> writes);

} // namespace exim_ban
