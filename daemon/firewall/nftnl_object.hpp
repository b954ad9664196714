// The libnftnl objects exim-ban writes and reads (table, set, chain, rule),
// each as one kind, owned and named the same way by nft_batch and
// nft_reader. Private to firewall/.
#pragma once

// <arpa/inet.h> before the kernel's netfilter headers; see nft_batch.cpp.
#include <arpa/inet.h>
#include <cstdint>
#include <initializer_list>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <memory>
#include <utility>

namespace exim_ban {

template <class Object, auto alloc, auto free, auto set_str, auto set_u32,
          std::uint16_t family_attribute>
struct NftnlKind {
    using Type = Object;
    struct Free {
        void operator()(Object* object) const { free(object); }
    };
    using Ptr = std::unique_ptr<Object, Free>;

    static Ptr blank() { return Ptr(alloc()); }
    // A new object of family inet with these string attributes.
    static Ptr make(std::initializer_list<std::pair<std::uint16_t, const char*>> strings) {
        Ptr object(alloc());
        for (const auto& [attribute, value] : strings)
            set_str(object.get(), attribute, value);
        set_u32(object.get(), family_attribute, NFPROTO_INET);
        return object;
    }
};

using NftnlTable = NftnlKind<nftnl_table, nftnl_table_alloc, nftnl_table_free, nftnl_table_set_str,
                             nftnl_table_set_u32, NFTNL_TABLE_FAMILY>;
using NftnlSet = NftnlKind<nftnl_set, nftnl_set_alloc, nftnl_set_free, nftnl_set_set_str,
                           nftnl_set_set_u32, NFTNL_SET_FAMILY>;
using NftnlChain = NftnlKind<nftnl_chain, nftnl_chain_alloc, nftnl_chain_free, nftnl_chain_set_str,
                             nftnl_chain_set_u32, NFTNL_CHAIN_FAMILY>;
using NftnlRule = NftnlKind<nftnl_rule, nftnl_rule_alloc, nftnl_rule_free, nftnl_rule_set_str,
                            nftnl_rule_set_u32, NFTNL_RULE_FAMILY>;

} // namespace exim_ban
