#include "firewall/nft_batch.hpp"

#include "firewall/nftnl_object.hpp"
#include "firewall/table_check.hpp"

// <arpa/inet.h> (libc) must come before the kernel's <linux/netfilter.h>:
// both define struct in_addr, and only in this order do the kernel's
// headers step aside.
#include <algorithm>
#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <memory>
#include <string>

namespace exim_ban {
namespace {

constexpr std::uint32_t nft_type_inet_service = 13;
// Enough for any structure message, and for a full element message:
// 1024 IPv6 elements with timeouts take about 41 KB.
constexpr std::size_t message_room = 128 << 10;
// The nest of a message's elements has a 16-bit length; an IPv6 element
// with its timeout takes 40 bytes.
static_assert(NftBatch::max_elements_per_message * 40 < 65535);

struct UdataFree {
    void operator()(nftnl_udata_buf* udata) const { nftnl_udata_buf_free(udata); }
};
using UdataPtr = std::unique_ptr<nftnl_udata_buf, UdataFree>;

const std::string table_name(firewall_table_name);
const std::string chain_name(firewall_chain_name);

// The objects of table inet exim_ban, named.
NftnlTable::Ptr table_object() {
    return NftnlTable::make({{NFTNL_TABLE_NAME, table_name.c_str()}});
}
NftnlSet::Ptr set_object(const char* name) {
    return NftnlSet::make({{NFTNL_SET_TABLE, table_name.c_str()}, {NFTNL_SET_NAME, name}});
}
NftnlChain::Ptr chain_object() {
    return NftnlChain::make(
        {{NFTNL_CHAIN_TABLE, table_name.c_str()}, {NFTNL_CHAIN_NAME, chain_name.c_str()}});
}
NftnlRule::Ptr rule_object() {
    return NftnlRule::make(
        {{NFTNL_RULE_TABLE, table_name.c_str()}, {NFTNL_RULE_CHAIN, chain_name.c_str()}});
}

UdataPtr comment(std::uint8_t type, const std::string& text) {
    UdataPtr udata(nftnl_udata_buf_alloc(NFTNL_UDATA_COMMENT_MAXLEN + 16));
    nftnl_udata_put_strz(udata.get(), type, text.c_str());
    return udata;
}

void add_expression(nftnl_rule* rule, nftnl_expr* expression) {
    nftnl_rule_add_expr(rule, expression); // the rule owns it now
}

void load_meta(nftnl_rule* rule, std::uint32_t key) {
    nftnl_expr* e = nftnl_expr_alloc("meta");
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
    add_expression(rule, e);
}

void compare_equal(nftnl_rule* rule, const void* data, std::uint32_t length) {
    nftnl_expr* e = nftnl_expr_alloc("cmp");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, length);
    add_expression(rule, e);
}

void load_payload(nftnl_rule* rule, std::uint32_t base, std::uint32_t offset,
                  std::uint32_t length) {
    nftnl_expr* e = nftnl_expr_alloc("payload");
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, length);
    add_expression(rule, e);
}

void mask(nftnl_rule* rule, const std::array<std::uint8_t, 16>& netmask) {
    const std::array<std::uint8_t, 16> zero{};
    nftnl_expr* e = nftnl_expr_alloc("bitwise");
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 16);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, netmask.data(), 16);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero.data(), 16);
    add_expression(rule, e);
}

void lookup(nftnl_rule* rule, const std::string& set, std::uint32_t set_id) {
    nftnl_expr* e = nftnl_expr_alloc("lookup");
    nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
    nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set.c_str());
    if (set_id != 0)
        nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
    add_expression(rule, e);
}

void drop(nftnl_rule* rule) {
    nftnl_expr* e = nftnl_expr_alloc("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
    add_expression(rule, e);
}

void reject(nftnl_rule* rule, std::uint32_t type, std::uint8_t code) {
    nftnl_expr* e = nftnl_expr_alloc("reject");
    nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
    nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
    add_expression(rule, e);
}

} // namespace

NftBatch::NftBatch(std::uint32_t first_sequence)
    : first_sequence_(first_sequence)
    , next_sequence_(first_sequence) {
    nftnl_batch_begin(room(message_room), next_sequence_++);
    commit_message();
    messages_ = 0; // the begin and end messages are not counted
}

char* NftBatch::room(std::size_t bytes) {
    if (buffer_.size() < used_ + bytes)
        buffer_.resize(std::max(buffer_.size() * 2, used_ + bytes));
    return buffer_.data() + used_;
}

template <class Build, class Object>
std::uint32_t NftBatch::put(Build build, std::uint16_t type, std::uint16_t flags, Object* object) {
    build(header(type, flags), object);
    return commit_message();
}

nlmsghdr* NftBatch::header(std::uint16_t type, std::uint16_t flags) {
    return nftnl_nlmsg_build_hdr(room(message_room), type, NFPROTO_INET, flags, next_sequence_++);
}

std::uint32_t NftBatch::commit_message() {
    const auto* message = reinterpret_cast<const nlmsghdr*>(buffer_.data() + used_);
    used_ += NLMSG_ALIGN(message->nlmsg_len);
    ++messages_;
    return message->nlmsg_seq;
}

std::uint32_t NftBatch::add_table() {
    const NftnlTable::Ptr table = table_object();
    // Flags 0 also wakes a table someone made dormant.
    nftnl_table_set_u32(table.get(), NFTNL_TABLE_FLAGS, 0);
    const UdataPtr note =
        comment(NFTNL_UDATA_TABLE_COMMENT, "exim-ban's bans: exim-banctl nft-list shows them");
    nftnl_table_set_data(table.get(), NFTNL_TABLE_USERDATA, nftnl_udata_buf_data(note.get()),
                         nftnl_udata_buf_len(note.get()));
    return put(nftnl_table_nlmsg_build_payload, NFT_MSG_NEWTABLE, NLM_F_CREATE, table.get());
}

std::uint32_t NftBatch::delete_table() {
    return put(nftnl_table_nlmsg_build_payload, NFT_MSG_DELTABLE, 0, table_object().get());
}

std::uint32_t NftBatch::add_jail_set(const FirewallJail& jail, IpAddress::Family family) {
    const NftnlSet::Ptr set = set_object(jail_set_name(jail.name, family).c_str());
    // The kernel wants an id for a set made in a transaction (it names the
    // set until the transaction ends).
    nftnl_set_set_u32(set.get(), NFTNL_SET_ID, next_set_id_++);
    nftnl_set_set_u32(set.get(), NFTNL_SET_FLAGS, jail_set_flags());
    nftnl_set_set_u32(set.get(), NFTNL_SET_KEY_TYPE, jail_set_key_type(family));
    nftnl_set_set_u32(set.get(), NFTNL_SET_KEY_LEN, jail_set_key_length(family));
    // A counter on the set gives each element its own (Linux 5.11+).
    nftnl_set_add_expr(set.get(), nftnl_expr_alloc("counter"));
    const UdataPtr note = comment(NFTNL_UDATA_SET_COMMENT, jail_set_comment(jail.name));
    nftnl_set_set_data(set.get(), NFTNL_SET_USERDATA, nftnl_udata_buf_data(note.get()),
                       nftnl_udata_buf_len(note.get()));
    return put(nftnl_set_nlmsg_build_payload, NFT_MSG_NEWSET, NLM_F_CREATE, set.get());
}

std::uint32_t NftBatch::delete_set(std::string_view name) {
    return put(nftnl_set_nlmsg_build_payload, NFT_MSG_DELSET, 0,
               set_object(std::string(name).c_str()).get());
}

std::uint32_t NftBatch::add_input_chain() {
    const NftnlChain::Ptr chain = chain_object();
    nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TYPE, "filter");
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_IN);
    nftnl_chain_set_s32(chain.get(), NFTNL_CHAIN_PRIO, firewall_chain_priority);
    nftnl_chain_set_u32(chain.get(), NFTNL_CHAIN_POLICY, NF_ACCEPT);
    return put(nftnl_chain_nlmsg_build_payload, NFT_MSG_NEWCHAIN, NLM_F_CREATE, chain.get());
}

std::uint32_t NftBatch::flush_input_chain() {
    return put(nftnl_rule_nlmsg_build_payload, NFT_MSG_DELRULE, 0, rule_object().get());
}

std::uint32_t NftBatch::add_jail_rules(const FirewallJail& jail) {
    std::vector<std::uint16_t> ports = jail.ports;
    std::sort(ports.begin(), ports.end());
    ports.erase(std::unique(ports.begin(), ports.end()), ports.end());

    // Several ports are matched through an anonymous constant set, which
    // must be created (and filled) in the same batch before its rule.
    const auto port_set = [&]() -> std::uint32_t {
        const std::uint32_t id = next_set_id_++;
        const NftnlSet::Ptr set = set_object("__set%d");
        nftnl_set_set_u32(set.get(), NFTNL_SET_ID, id);
        nftnl_set_set_u32(set.get(), NFTNL_SET_FLAGS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT);
        nftnl_set_set_u32(set.get(), NFTNL_SET_KEY_TYPE, nft_type_inet_service);
        nftnl_set_set_u32(set.get(), NFTNL_SET_KEY_LEN, 2);
        nftnl_set_set_u32(set.get(), NFTNL_SET_DESC_SIZE, static_cast<std::uint32_t>(ports.size()));
        put(nftnl_set_nlmsg_build_payload, NFT_MSG_NEWSET, NLM_F_CREATE, set.get());
        for (const std::uint16_t port : ports) {
            nftnl_set_elem* element = nftnl_set_elem_alloc();
            const std::uint16_t value = htons(port);
            nftnl_set_elem_set(element, NFTNL_SET_ELEM_KEY, &value, sizeof value);
            nftnl_set_elem_add(set.get(), element);
        }
        put(nftnl_set_elems_nlmsg_build_payload, NFT_MSG_NEWSETELEM, NLM_F_CREATE, set.get());
        return id;
    };

    const auto add_rule = [&](IpAddress::Family family, bool tcp_only, bool icmp) {
        const NftnlRule::Ptr rule = rule_object();
        // The port test comes before the lookup: only a packet the rule
        // blocks reaches the element and counts on it.
        if (!ports.empty() || tcp_only) {
            const std::uint8_t tcp = IPPROTO_TCP;
            load_meta(rule.get(), NFT_META_L4PROTO);
            compare_equal(rule.get(), &tcp, 1);
        }
        if (ports.size() == 1) {
            const std::uint16_t port = htons(ports.front());
            load_payload(rule.get(), NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
            compare_equal(rule.get(), &port, 2);
        } else if (ports.size() > 1) {
            const std::uint32_t id = port_set();
            load_payload(rule.get(), NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
            lookup(rule.get(), "__set%d", id);
        }
        const std::uint8_t protocol = family == IpAddress::Family::v4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
        load_meta(rule.get(), NFT_META_NFPROTO);
        compare_equal(rule.get(), &protocol, 1);
        if (family == IpAddress::Family::v4) {
            load_payload(rule.get(), NFT_PAYLOAD_NETWORK_HEADER, 12, 4); // saddr
        } else {
            load_payload(rule.get(), NFT_PAYLOAD_NETWORK_HEADER, 8, 16); // saddr
            if (jail.ipv6_prefix < 128)
                mask(rule.get(), ipv6_mask(jail.ipv6_prefix));
        }
        lookup(rule.get(), jail_set_name(jail.name, family), 0);
        if (jail.verdict == Verdict::drop)
            drop(rule.get());
        else if (icmp)
            reject(rule.get(), NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_PORT_UNREACH);
        else
            reject(rule.get(), NFT_REJECT_TCP_RST, 0);

        return put(nftnl_rule_nlmsg_build_payload, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
                   rule.get());
    };

    std::uint32_t last = 0;
    for (const auto family : {IpAddress::Family::v4, IpAddress::Family::v6}) {
        if (!ports.empty() || jail.verdict == Verdict::drop) {
            last = add_rule(family, false, false);
        } else {
            // Reject on all ports: a TCP reset for TCP, ICMP for the rest.
            add_rule(family, true, false);
            last = add_rule(family, false, true);
        }
    }
    return last;
}

std::uint32_t NftBatch::elements(ElementOperation operation, std::string_view set,
                                 std::span<const ElementEntry> entries) {
    const std::uint16_t type =
        operation == ElementOperation::remove ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM;
    std::uint16_t flags = 0;
    if (operation != ElementOperation::remove)
        flags = NLM_F_CREATE;
    if (operation == ElementOperation::add_exclusive)
        flags |= NLM_F_EXCL;
    nlmsghdr* message = header(type, flags);
    mnl_attr_put_strz(message, NFTA_SET_ELEM_LIST_TABLE, table_name.c_str());
    mnl_attr_put(message, NFTA_SET_ELEM_LIST_SET, set.size() + 1, std::string(set).c_str());
    nlattr* list = mnl_attr_nest_start(message, NFTA_SET_ELEM_LIST_ELEMENTS);
    for (const auto& entry : entries) {
        nlattr* element = mnl_attr_nest_start(message, NFTA_LIST_ELEM);
        nlattr* key = mnl_attr_nest_start(message, NFTA_SET_ELEM_KEY);
        mnl_attr_put(message, NFTA_DATA_VALUE, entry.key->size(), entry.key->bytes.data());
        mnl_attr_nest_end(message, key);
        if (operation != ElementOperation::remove)
            mnl_attr_put_u64(message, NFTA_SET_ELEM_TIMEOUT,
                             htobe64(static_cast<std::uint64_t>(entry.timeout.count())));
        mnl_attr_nest_end(message, element);
    }
    mnl_attr_nest_end(message, list);
    return commit_message();
}

std::span<const char> NftBatch::finish() {
    nftnl_batch_end(room(message_room), next_sequence_++);
    const auto* message = reinterpret_cast<const nlmsghdr*>(buffer_.data() + used_);
    used_ += NLMSG_ALIGN(message->nlmsg_len);
    return {buffer_.data(), used_};
}

} // namespace exim_ban
