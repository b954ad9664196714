// One nf_tables transaction as netlink messages (libnftnl for the table,
// sets, chain and rules; libmnl attributes for elements, the hot path):
// begin, messages, end. Every message has its own sequence number, which
// the kernel's error reports name.
#pragma once

#include "firewall/element_key.hpp"
#include "firewall/firewall_jail.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

struct nlmsghdr;

namespace exim_ban {

class NftBatch {
  public:
    // Messages are numbered from `first_sequence` on.
    explicit NftBatch(std::uint32_t first_sequence);

    // Each returns the sequence number of (the last of) its message(s).
    std::uint32_t add_table();    // created, or woken if dormant
    std::uint32_t delete_table(); // with all it holds
    std::uint32_t add_jail_set(const FirewallJail& jail, IpAddress::Family family);
    std::uint32_t delete_set(std::string_view name);
    std::uint32_t add_input_chain();
    std::uint32_t flush_input_chain(); // deletes its rules
    // The jail's rules (jail_rule_texts), with the anonymous port sets they use.
    std::uint32_t add_jail_rules(const FirewallJail& jail);

    enum class ElementOperation {
        add,           // an element already there is left (Linux < 6.12) or re-timed
        add_exclusive, // an element already there: EEXIST
        remove,        // an element not there: ENOENT
    };
    struct ElementEntry {
        const ElementKey* key;
        std::chrono::milliseconds timeout; // add only
    };
    static constexpr std::size_t max_elements_per_message = 1024;
    // One message for up to max_elements_per_message elements of one set.
    std::uint32_t elements(ElementOperation operation, std::string_view set,
                           std::span<const ElementEntry> entries);

    // Appends the end message; the batch is complete.
    std::span<const char> finish();

    std::uint32_t next_sequence() const { return next_sequence_; }
    std::uint32_t sequences_used() const { return next_sequence_ - first_sequence_; }
    std::size_t message_count() const { return messages_; }

  private:
    char* room(std::size_t bytes);
    // The header of the next message, numbered.
    nlmsghdr* header(std::uint16_t type, std::uint16_t flags);
    // Counts the message just built; returns its sequence number.
    std::uint32_t commit_message();
    // One message of `type`: `object` written by `build` (a libnftnl
    // *_nlmsg_build_payload). Returns its sequence number.
    template <class Build, class Object>
    std::uint32_t put(Build build, std::uint16_t type, std::uint16_t flags, Object* object);

    std::vector<char> buffer_;
    std::size_t used_ = 0;
    std::uint32_t first_sequence_;
    std::uint32_t next_sequence_;
    std::uint32_t next_set_id_ = 1;
    std::size_t messages_ = 0;
};

} // namespace exim_ban
