#include "firewall/nft_batch.hpp"

// <arpa/inet.h> before the kernel's netfilter headers; see nft_batch.cpp.
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string>
#include <vector>

using namespace exim_ban;

namespace {

std::vector<const nlmsghdr*> messages(std::span<const char> batch) {
    std::vector<const nlmsghdr*> result;
    auto length = static_cast<int>(batch.size());
    for (auto* message = reinterpret_cast<const nlmsghdr*>(batch.data());
         mnl_nlmsg_ok(message, length); message = mnl_nlmsg_next(message, &length))
        result.push_back(message);
    CHECK(length == 0);
    return result;
}

std::uint16_t nft_type(const nlmsghdr* message) {
    return message->nlmsg_type & 0xff;
}

// The expression names of a rule message, and the sets it looks up.
std::pair<std::vector<std::string>, std::vector<std::string>> rule_parts(const nlmsghdr* message) {
    nftnl_rule* rule = nftnl_rule_alloc();
    REQUIRE(nftnl_rule_nlmsg_parse(message, rule) == 0);
    std::pair<std::vector<std::string>, std::vector<std::string>> parts;
    nftnl_expr_foreach(
        rule,
        [](nftnl_expr* expression, void* data) -> int {
            auto& [names, sets] = *static_cast<decltype(parts)*>(data);
            names.emplace_back(nftnl_expr_get_str(expression, NFTNL_EXPR_NAME));
            if (names.back() == "lookup")
                sets.emplace_back(nftnl_expr_get_str(expression, NFTNL_EXPR_LOOKUP_SET));
            return 0;
        },
        &parts);
    nftnl_rule_free(rule);
    return parts;
}

} // namespace

TEST_CASE("a batch is begin, numbered messages, end", "[firewall][batch]") {
    NftBatch batch(1000);
    CHECK(batch.add_table() == 1001);
    CHECK(batch.add_input_chain() == 1002);
    CHECK(batch.delete_set("old_v4") == 1003);
    const auto all = messages(batch.finish());
    REQUIRE(all.size() == 5);
    CHECK(all.front()->nlmsg_type == NFNL_MSG_BATCH_BEGIN);
    CHECK(all.back()->nlmsg_type == NFNL_MSG_BATCH_END);
    CHECK(nft_type(all[1]) == NFT_MSG_NEWTABLE);
    CHECK(nft_type(all[2]) == NFT_MSG_NEWCHAIN);
    CHECK(nft_type(all[3]) == NFT_MSG_DELSET);
    for (std::size_t i = 0; i < all.size(); ++i)
        CHECK(all[i]->nlmsg_seq == 1000 + i);
    CHECK(batch.sequences_used() == 5);
    CHECK(batch.message_count() == 3);
}

TEST_CASE("a jail's rules test the port before the set, and mask IPv6", "[firewall][batch]") {
    NftBatch batch(1);
    batch.add_jail_rules({"exim", {25, 465, 587}, Verdict::drop, 64});
    const auto all = messages(batch.finish());
    // The anonymous port set and its elements come before each rule.
    std::vector<std::uint16_t> types;
    for (std::size_t i = 1; i + 1 < all.size(); ++i)
        types.push_back(nft_type(all[i]));
    CHECK(types == std::vector<std::uint16_t>{NFT_MSG_NEWSET, NFT_MSG_NEWSETELEM, NFT_MSG_NEWRULE,
                                              NFT_MSG_NEWSET, NFT_MSG_NEWSETELEM, NFT_MSG_NEWRULE});
    const auto [v4, v4_sets] = rule_parts(all[3]);
    CHECK(v4 == std::vector<std::string>{"meta", "cmp", "payload", "lookup", "meta", "cmp",
                                         "payload", "lookup", "immediate"});
    CHECK(v4_sets == std::vector<std::string>{"__set%d", "exim_v4"});
    const auto [v6, v6_sets] = rule_parts(all[6]);
    CHECK(v6 == std::vector<std::string>{"meta", "cmp", "payload", "lookup", "meta", "cmp",
                                         "payload", "bitwise", "lookup", "immediate"});
    CHECK(v6_sets == std::vector<std::string>{"__set%d", "exim_v6"});
}

TEST_CASE("reject on all ports resets TCP and answers the rest with ICMP", "[firewall][batch]") {
    NftBatch batch(1);
    batch.add_jail_rules({"spam", {}, Verdict::reject, 128});
    const auto all = messages(batch.finish());
    REQUIRE(all.size() == 6);
    CHECK(rule_parts(all[1]).first ==
          std::vector<std::string>{"meta", "cmp", "meta", "cmp", "payload", "lookup", "reject"});
    CHECK(rule_parts(all[2]).first ==
          std::vector<std::string>{"meta", "cmp", "payload", "lookup", "reject"});
    CHECK(rule_parts(all[4]).first == std::vector<std::string>{"meta", "cmp", "payload", "lookup",
                                                               "reject"}); // no mask at /128
}

TEST_CASE("element messages hold a full chunk within netlink's limits", "[firewall][batch]") {
    std::vector<ElementKey> keys(NftBatch::max_elements_per_message);
    for (std::size_t i = 0; i < keys.size(); ++i)
        keys[i] = *element_key(
            BanKey(IpAddress::from_v6({0x20, 0x01, 0x0d, 0xb8, static_cast<std::uint8_t>(i >> 8),
                                       static_cast<std::uint8_t>(i)})),
            64);
    std::vector<NftBatch::ElementEntry> entries;
    for (const auto& key : keys)
        entries.push_back({&key, std::chrono::hours(24 * 35)});

    NftBatch batch(1);
    batch.elements(NftBatch::ElementOperation::add_exclusive, "exim_v6", entries);
    batch.elements(NftBatch::ElementOperation::remove, "exim_v6", {entries.data(), 1});
    batch.elements(NftBatch::ElementOperation::add, "exim_v6", {entries.data(), 1});
    const auto all = messages(batch.finish());
    REQUIRE(all.size() == 5);
    CHECK(nft_type(all[1]) == NFT_MSG_NEWSETELEM);
    CHECK((all[1]->nlmsg_flags & NLM_F_EXCL) != 0);
    CHECK(all[1]->nlmsg_len < 65535);
    CHECK(nft_type(all[2]) == NFT_MSG_DELSETELEM);
    CHECK(nft_type(all[3]) == NFT_MSG_NEWSETELEM);
    CHECK((all[3]->nlmsg_flags & NLM_F_EXCL) == 0);
}
