#include "firewall/table_check.hpp"

#include <catch2/catch.hpp>
#include <linux/netfilter/nf_tables.h>

using namespace exim_ban;

namespace {

SetSnapshot ours(const std::string& jail, IpAddress::Family family) {
    SetSnapshot set;
    set.name = jail_set_name(jail, family);
    set.flags = NFT_SET_TIMEOUT;
    set.key_type = jail_set_key_type(family);
    set.key_length = jail_set_key_length(family);
    set.expressions = {"counter"};
    set.comment = jail_set_comment(jail);
    return set;
}

ChainSnapshot input_chain() {
    return ChainSnapshot{"input", true, 1, -10, "filter"};
}

const std::vector<FirewallJail> jails{{"exim", {25, 465, 587}, Verdict::drop, 64}};

bool mentions(const std::vector<std::string>& lines, const std::string& text) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
        return line.find(text) != std::string::npos;
    });
}

} // namespace

TEST_CASE("no table, or exim-ban's own table, is in nobody's way", "[firewall][table]") {
    CHECK(check_table(TableSnapshot{}, jails).in_the_way.empty());
    TableSnapshot table;
    table.exists = true;
    table.sets = {ours("exim", IpAddress::Family::v4), ours("exim", IpAddress::Family::v6)};
    table.chains = {input_chain()};
    const TableCheck check = check_table(table, jails);
    CHECK(check.in_the_way.empty());
    CHECK(check.stale_sets.empty());
    CHECK(check.left_alone.empty());
}

TEST_CASE("sets of jails that are gone are stale; sets of others are left alone",
          "[firewall][table]") {
    TableSnapshot table;
    table.exists = true;
    SetSnapshot foreign = ours("mine", IpAddress::Family::v4);
    foreign.comment = "made by hand";
    SetSnapshot anonymous;
    anonymous.name = "__set0";
    anonymous.flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT;
    table.sets = {ours("old", IpAddress::Family::v4), ours("old", IpAddress::Family::v6), foreign,
                  anonymous};
    table.chains = {input_chain(), ChainSnapshot{"extra", false, 0, 0, ""}};
    const TableCheck check = check_table(table, jails);
    CHECK(check.in_the_way.empty());
    CHECK(check.stale_sets == std::vector<std::string>{"old_v4", "old_v6"});
    CHECK(check.left_alone == std::vector<std::string>{"set mine_v4", "chain extra"});
}

TEST_CASE("objects exim-ban cannot use are in its way, each with what differs",
          "[firewall][table]") {
    TableSnapshot table;
    table.exists = true;
    table.owner = 4242;
    SetSnapshot wrong_type = ours("exim", IpAddress::Family::v4);
    wrong_type.key_type = jail_set_key_type(IpAddress::Family::v6);
    wrong_type.key_length = 16;
    SetSnapshot interval = ours("exim", IpAddress::Family::v6);
    interval.flags = NFT_SET_TIMEOUT | NFT_SET_INTERVAL;
    interval.expressions.clear();
    table.sets = {wrong_type, interval};
    table.chains = {ChainSnapshot{"input", true, 3, 0, "filter"}};
    const TableCheck check = check_table(table, jails);
    REQUIRE(check.in_the_way.size() == 4);
    CHECK(mentions(check.in_the_way, "owned by another process (netlink port 4242)"));
    CHECK(mentions(check.in_the_way, "set exim_v4 in table inet exim_ban has type ipv6_addr "
                                     "instead of ipv4_addr"));
    CHECK(mentions(check.in_the_way, "flags interval,timeout instead of timeout"));
    CHECK(mentions(check.in_the_way, "per-element expressions other than one counter"));
    CHECK(mentions(check.in_the_way, "chain input in table inet exim_ban is a filter chain with "
                                     "hook output and priority 0"));
}

TEST_CASE("a regular chain called input is in the way", "[firewall][table]") {
    TableSnapshot table;
    table.exists = true;
    table.chains = {ChainSnapshot{"input", false, 0, 0, ""}};
    CHECK(mentions(check_table(table, jails).in_the_way, "a regular chain"));
}
