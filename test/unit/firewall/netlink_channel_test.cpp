#include "firewall/netlink_channel.hpp"
#include "firewall/nft_batch.hpp"
#include "support/scripted_netlink.hpp"

#include <catch2/catch.hpp>
#include <libnftnl/set.h>
#include <linux/netfilter.h>

using namespace exim_ban;
using testing::ScriptedNetlink;

namespace {

const FirewallJail jail{"exim", {25}, Verdict::drop, 64};

// Sends a batch making the table and the jail's sets.
void make_table(NetlinkChannel& channel) {
    NftBatch batch(channel.reserve_sequence(0));
    batch.add_table();
    batch.add_jail_set(jail, IpAddress::Family::v4);
    batch.add_jail_set(jail, IpAddress::Family::v6);
    channel.reserve_sequence(batch.sequences_used());
    REQUIRE(channel.send_batch(batch.finish()).errors.empty());
}

// Asks for the sets of table exim_ban; returns request()'s result and
// counts the replies in `replies`.
int dump_sets(NetlinkChannel& channel, int& replies, bool keep_going = true) {
    std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
    const std::uint32_t sequence = channel.reserve_sequence(1);
    nlmsghdr* message = nftnl_nlmsg_build_hdr(buffer.data(), NFT_MSG_GETSET, NFPROTO_INET,
                                              NLM_F_DUMP | NLM_F_ACK, sequence);
    nftnl_set* set = nftnl_set_alloc();
    nftnl_set_set_str(set, NFTNL_SET_TABLE, "exim_ban");
    nftnl_set_nlmsg_build_payload(message, set);
    nftnl_set_free(set);
    replies = 0;
    return channel.request({buffer.data(), message->nlmsg_len}, sequence, [&](const nlmsghdr*) {
        ++replies;
        return keep_going;
    });
}

} // namespace

TEST_CASE("a batch's error reports name their messages, in any order", "[firewall][netlink]") {
    ScriptedNetlink kernel;
    const bool reverse = GENERATE(false, true);
    kernel.report_in_reverse(reverse);
    NftBatch batch(kernel.reserve_sequence(0));
    const std::uint32_t table = batch.add_table();
    const std::uint32_t stale = batch.delete_set("old_v4"); // no such set: ENOENT
    const std::uint32_t gone = batch.delete_set("old_v6");
    kernel.reserve_sequence(batch.sequences_used());
    const NetlinkChannel::BatchReply reply = kernel.send_batch(batch.finish());
    CHECK(reply.socket_error == 0);
    std::vector<std::pair<std::uint32_t, int>> expected{{stale, ENOENT}, {gone, ENOENT}};
    if (reverse)
        std::swap(expected[0], expected[1]);
    CHECK(reply.errors == expected);
    CHECK(table < stale);
    CHECK_FALSE(kernel.has_table()); // all or nothing
}

TEST_CASE("a batch the socket cannot send is a socket error", "[firewall][netlink]") {
    ScriptedNetlink kernel;
    kernel.fail_next_send(ENOBUFS);
    NftBatch batch(kernel.reserve_sequence(0));
    batch.add_table();
    const NetlinkChannel::BatchReply reply = kernel.send_batch(batch.finish());
    CHECK(reply.socket_error == ENOBUFS);
    CHECK(reply.errors.empty());
}

TEST_CASE("a request reads its reply to the end", "[firewall][netlink]") {
    ScriptedNetlink kernel;
    int replies = 0;
    SECTION("an error reply is its errno") {
        CHECK(dump_sets(kernel, replies) == ENOENT);
        CHECK(replies == 0);
    }
    make_table(kernel);
    SECTION("a dump hands over each object until NLMSG_DONE") {
        CHECK(dump_sets(kernel, replies) == 0);
        CHECK(replies == 2);
    }
    SECTION("an interrupted dump is EINTR") {
        kernel.interrupt_next_dump();
        CHECK(dump_sets(kernel, replies) == EINTR);
        CHECK(dump_sets(kernel, replies) == 0);
    }
    SECTION("a handler that stops is ECANCELED, the rest read all the same") {
        CHECK(dump_sets(kernel, replies, false) == ECANCELED);
        CHECK(replies == 1);
    }
    SECTION("a socket that fails is its errno") {
        kernel.fail_next_send(EPERM);
        CHECK(dump_sets(kernel, replies) == EPERM);
    }
}
