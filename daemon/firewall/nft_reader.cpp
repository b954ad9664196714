#include "firewall/nft_reader.hpp"

#include "firewall/firewall_jail.hpp"
#include "firewall/netlink_channel.hpp"
#include "firewall/nftnl_object.hpp"

// <arpa/inet.h> before the kernel's netfilter headers; see nft_batch.cpp.
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <functional>
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
#include <optional>

namespace exim_ban {
namespace {

const std::string table_name(firewall_table_name);
const std::string chain_name(firewall_chain_name);

// A dump that a concurrent change interrupts is asked for again; a few
// times are plenty, changes to our table come from us.
constexpr int dump_attempts = 4;

// Asks for the objects of `Kind` (nftnl_object.hpp) that `names`
// (attribute, name) select, the request written by `build`, and hands each
// reply object that `parse` reads to `on_object`; asks again while the dump
// is interrupted, after `reset`.
template <class Kind, auto build, auto parse>
int read_objects(NetlinkChannel& channel, std::uint16_t type, std::uint16_t flags,
                 std::initializer_list<std::pair<std::uint16_t, const char*>> names,
                 const std::function<void(typename Kind::Type*)>& on_object,
                 const std::function<void()>& reset) {
    std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
    const auto on_message = [&](const nlmsghdr* message) {
        const typename Kind::Ptr reply = Kind::blank();
        if (parse(message, reply.get()) >= 0)
            on_object(reply.get());
        return true;
    };
    int result = 0;
    for (int attempt = 0; attempt < dump_attempts; ++attempt) {
        reset();
        const std::uint32_t sequence = channel.reserve_sequence(1);
        nlmsghdr* message =
            nftnl_nlmsg_build_hdr(buffer.data(), type, NFPROTO_INET, flags, sequence);
        const typename Kind::Ptr request = Kind::make(names);
        build(message, request.get());
        result = channel.request({buffer.data(), message->nlmsg_len}, sequence, on_message);
        if (result != EINTR)
            break;
    }
    return result;
}

std::string set_comment(const nftnl_set* set) {
    if (!nftnl_set_is_set(set, NFTNL_SET_USERDATA))
        return {};
    std::uint32_t length = 0;
    const void* data = nftnl_set_get_data(set, NFTNL_SET_USERDATA, &length);
    std::string comment;
    nftnl_udata_parse(
        data, length,
        [](const nftnl_udata* attribute, void* found) -> int {
            if (nftnl_udata_type(attribute) == NFTNL_UDATA_SET_COMMENT) {
                const auto* text = static_cast<const char*>(nftnl_udata_get(attribute));
                *static_cast<std::string*>(found) =
                    std::string(text, strnlen(text, nftnl_udata_len(attribute)));
            }
            return 0;
        },
        &comment);
    return comment;
}

SetSnapshot set_snapshot(const nftnl_set* set) {
    SetSnapshot snapshot;
    snapshot.name = nftnl_set_get_str(set, NFTNL_SET_NAME);
    snapshot.flags = nftnl_set_get_u32(set, NFTNL_SET_FLAGS);
    snapshot.key_type = nftnl_set_get_u32(set, NFTNL_SET_KEY_TYPE);
    snapshot.key_length = nftnl_set_get_u32(set, NFTNL_SET_KEY_LEN);
    if (nftnl_set_is_set(set, NFTNL_SET_TIMEOUT))
        snapshot.default_timeout_ms = nftnl_set_get_u64(set, NFTNL_SET_TIMEOUT);
    nftnl_set_expr_foreach(
        set,
        [](nftnl_expr* expression, void* names) -> int {
            static_cast<std::vector<std::string>*>(names)->push_back(
                nftnl_expr_get_str(expression, NFTNL_EXPR_NAME));
            return 0;
        },
        &snapshot.expressions);
    snapshot.comment = set_comment(set);
    return snapshot;
}

struct ElementContext {
    std::vector<KernelElement>* elements;
    IpAddress::Family family;
};

int add_counter(nftnl_expr* expression, void* target) {
    if (std::strcmp(nftnl_expr_get_str(expression, NFTNL_EXPR_NAME), "counter") == 0) {
        auto& element = *static_cast<KernelElement*>(target);
        element.packets = nftnl_expr_get_u64(expression, NFTNL_EXPR_CTR_PACKETS);
        element.bytes = nftnl_expr_get_u64(expression, NFTNL_EXPR_CTR_BYTES);
    }
    return 0;
}

int add_element(nftnl_set_elem* element, void* data) {
    auto& context = *static_cast<ElementContext*>(data);
    KernelElement parsed;
    parsed.key.family = context.family;
    std::uint32_t size = 0;
    const void* key = nftnl_set_elem_get(element, NFTNL_SET_ELEM_KEY, &size);
    if (key == nullptr || size != parsed.key.size())
        return 0;
    std::memcpy(parsed.key.bytes.data(), key, size);
    if (nftnl_set_elem_is_set(element, NFTNL_SET_ELEM_TIMEOUT))
        parsed.timeout =
            std::chrono::milliseconds(nftnl_set_elem_get_u64(element, NFTNL_SET_ELEM_TIMEOUT));
    if (nftnl_set_elem_is_set(element, NFTNL_SET_ELEM_EXPIRATION))
        parsed.expires =
            std::chrono::milliseconds(nftnl_set_elem_get_u64(element, NFTNL_SET_ELEM_EXPIRATION));
    nftnl_set_elem_expr_foreach(element, add_counter, &parsed);
    context.elements->push_back(parsed);
    return 0;
}

// Follows a rule's expressions: a bitwise mask after a payload load
// applies to the lookup that follows.
struct RuleScan {
    std::map<std::string, int>* prefixes;
    std::optional<int> mask_length;
};

int scan_expression(nftnl_expr* expression, void* data) {
    auto& scan = *static_cast<RuleScan*>(data);
    const std::string name = nftnl_expr_get_str(expression, NFTNL_EXPR_NAME);
    if (name == "payload") {
        scan.mask_length.reset();
    } else if (name == "bitwise" && nftnl_expr_is_set(expression, NFTNL_EXPR_BITWISE_MASK)) {
        std::uint32_t length = 0;
        const auto* mask = static_cast<const std::uint8_t*>(
            nftnl_expr_get(expression, NFTNL_EXPR_BITWISE_MASK, &length));
        scan.mask_length = mask_prefix_length({mask, length});
    } else if (name == "lookup") {
        const std::string set = nftnl_expr_get_str(expression, NFTNL_EXPR_LOOKUP_SET);
        scan.prefixes->try_emplace(set, scan.mask_length.value_or(128));
    }
    return 0;
}

} // namespace

int read_table(NetlinkChannel& channel, TableSnapshot& table) {
    table = TableSnapshot{};
    int result = read_objects<NftnlTable, nftnl_table_nlmsg_build_payload, nftnl_table_nlmsg_parse>(
        channel, NFT_MSG_GETTABLE, NLM_F_ACK, {{NFTNL_TABLE_NAME, table_name.c_str()}},
        [&](nftnl_table* reply) {
            table.exists = true;
            table.flags = nftnl_table_get_u32(reply, NFTNL_TABLE_FLAGS);
            if ((table.flags & NFT_TABLE_F_OWNER) != 0 &&
                nftnl_table_is_set(reply, NFTNL_TABLE_OWNER))
                table.owner = nftnl_table_get_u32(reply, NFTNL_TABLE_OWNER);
        },
        [&] { table = TableSnapshot{}; });
    if (result == ENOENT)
        return 0;
    if (result != 0)
        return result;

    result = read_objects<NftnlSet, nftnl_set_nlmsg_build_payload, nftnl_set_nlmsg_parse>(
        channel, NFT_MSG_GETSET, NLM_F_DUMP | NLM_F_ACK, {{NFTNL_SET_TABLE, table_name.c_str()}},
        [&](nftnl_set* reply) {
            // Older kernels dump the sets of every table of the family.
            if (table_name == nftnl_set_get_str(reply, NFTNL_SET_TABLE))
                table.sets.push_back(set_snapshot(reply));
        },
        [&] { table.sets.clear(); });
    if (result == ENOENT) {
        table.exists = false; // deleted in between
        return 0;
    }
    if (result != 0)
        return result;

    result = read_objects<NftnlChain, nftnl_chain_nlmsg_build_payload, nftnl_chain_nlmsg_parse>(
        channel, NFT_MSG_GETCHAIN, NLM_F_ACK,
        {{NFTNL_CHAIN_TABLE, table_name.c_str()}, {NFTNL_CHAIN_NAME, chain_name.c_str()}},
        [&](nftnl_chain* reply) {
            ChainSnapshot chain;
            chain.name = nftnl_chain_get_str(reply, NFTNL_CHAIN_NAME);
            chain.base = nftnl_chain_is_set(reply, NFTNL_CHAIN_HOOKNUM);
            if (chain.base) {
                chain.hook = nftnl_chain_get_u32(reply, NFTNL_CHAIN_HOOKNUM);
                chain.priority = nftnl_chain_get_s32(reply, NFTNL_CHAIN_PRIO);
                if (nftnl_chain_is_set(reply, NFTNL_CHAIN_TYPE))
                    chain.type = nftnl_chain_get_str(reply, NFTNL_CHAIN_TYPE);
            }
            table.chains.push_back(chain);
        },
        [&] { table.chains.clear(); });
    return result == ENOENT ? 0 : result;
}

int read_elements(NetlinkChannel& channel, const std::string& set, IpAddress::Family family,
                  std::vector<KernelElement>& elements) {
    ElementContext context{&elements, family};
    return read_objects<NftnlSet, nftnl_set_elems_nlmsg_build_payload, nftnl_set_elems_nlmsg_parse>(
        channel, NFT_MSG_GETSETELEM, NLM_F_DUMP | NLM_F_ACK,
        {{NFTNL_SET_TABLE, table_name.c_str()}, {NFTNL_SET_NAME, set.c_str()}},
        [&](nftnl_set* reply) { nftnl_set_elem_foreach(reply, add_element, &context); },
        [&] { elements.clear(); });
}

int read_lookup_prefixes(NetlinkChannel& channel, std::map<std::string, int>& prefixes) {
    const int result =
        read_objects<NftnlRule, nftnl_rule_nlmsg_build_payload, nftnl_rule_nlmsg_parse>(
            channel, NFT_MSG_GETRULE, NLM_F_DUMP | NLM_F_ACK,
            {{NFTNL_RULE_TABLE, table_name.c_str()}, {NFTNL_RULE_CHAIN, chain_name.c_str()}},
            [&](nftnl_rule* rule) {
                if (table_name != nftnl_rule_get_str(rule, NFTNL_RULE_TABLE) ||
                    chain_name != nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN))
                    return;
                RuleScan scan{&prefixes, std::nullopt};
                nftnl_expr_foreach(rule, scan_expression, &scan);
            },
            [&] { prefixes.clear(); });
    return result == ENOENT ? 0 : result;
}

} // namespace exim_ban
