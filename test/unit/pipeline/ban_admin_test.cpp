#include "support/pipeline_rig.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using namespace exim_ban::testing;
using std::chrono::milliseconds;

namespace {

PipelineRig knock_rig(bool knock_extend) {
    return PipelineRig({}, {}, [&](JailPolicy& policy) {
        policy.increment = true;
        policy.factor = 2;
        policy.knock_extend = knock_extend;
    });
}

} // namespace

TEST_CASE("a manual ban and unban go through the store, the firewall and the tracker",
          "[pipeline]") {
    PipelineRig rig;
    rig.line(failure_line("10:00:00", "192.0.2.7")); // an open batch, committed first
    REQUIRE_FALSE(rig.pipeline->manual_ban(0, key("198.51.100.4"), std::chrono::seconds{600}));
    REQUIRE(rig.store.batches().size() == 2);
    CHECK(rig.store.batches()[0].hits.size() == 1);
    const auto& ban = rig.store.batches()[1].bans.at(0);
    CHECK(ban.origin == "manual");
    CHECK(ban.expires - ban.start == 600);
    CHECK(rig.firewall.held("exim", key("198.51.100.4")) == milliseconds{600'000});

    // The log's hits of a manually banned key make no second ban meanwhile.
    for (const char* time : {"10:00:01", "10:00:02", "10:00:02"})
        rig.line(failure_line(time, "198.51.100.4"));
    rig.pipeline->on_caught_up();
    rig.advance(milliseconds{100});
    rig.pipeline->on_wake();
    CHECK(rig.store.bans().size() == 1);

    REQUIRE_FALSE(rig.pipeline->manual_unban({key("198.51.100.4")}, 0));
    CHECK_FALSE(rig.firewall.held("exim", key("198.51.100.4")));
    CHECK(rig.store.batches().back().unbans.size() == 1);
    CHECK(rig.pipeline->stats().unbans == 1);
    // Lifted: three new hits ban it again.
    for (const char* time : {"10:00:03", "10:00:03", "10:00:04"})
        rig.line(failure_line(time, "198.51.100.4"));
    rig.pipeline->on_caught_up();
    CHECK(rig.store.bans().size() == 2);
    CHECK(rig.firewall.held("exim", key("198.51.100.4")));
}

TEST_CASE("a manual ban while the store refuses is an error, and nothing changes", "[pipeline]") {
    PipelineRig rig;
    rig.store.fail_commits(1);
    const auto error = rig.pipeline->manual_ban(0, key("198.51.100.4"), std::chrono::seconds{60});
    REQUIRE(error);
    CHECK(error->find("database: database or disk is full") == 0);
    CHECK_FALSE(rig.firewall.held("exim", key("198.51.100.4")));
    CHECK(rig.pipeline->stats().manual_bans == 0);
}

TEST_CASE("knock_extend renews a ban that blocked packets as it ends, with the next escalated time",
          "[pipeline][knock]") {
    PipelineRig rig = knock_rig(true);
    rig.ban_by_log("192.0.2.7");
    rig.ban_by_log("192.0.2.8");
    REQUIRE(rig.store.bans().size() == 2);
    rig.firewall.knock("exim", key("192.0.2.7"), 12, 720);

    // Far from its end: not yet, however much it knocks.
    CHECK(rig.pipeline->renew_knocking(milliseconds{15'000}) == 0);
    rig.advance(milliseconds{3600'000 - 300 - 10'000});
    CHECK(rig.pipeline->renew_knocking(milliseconds{15'000}) == 1);

    const auto bans = rig.store.bans();
    REQUIRE(bans.size() == 3);
    CHECK(bans[2].key == key("192.0.2.7"));
    CHECK(bans[2].reason == "knock");
    CHECK(bans[2].origin == "firewall");
    CHECK(bans[2].expires - bans[2].start == 7200); // the second ban of the key: bantime x 2
    CHECK(rig.firewall.held("exim", key("192.0.2.7")) == milliseconds{7200'000});
    // The quiet one ends as it was.
    CHECK(rig.firewall.held("exim", key("192.0.2.8")) == milliseconds{10'000});
    CHECK(rig.pipeline->stats().knock_renewals == 1);
    CHECK(rig.pipeline->stats().bans == 3);

    // The renewal restarted the element's counter: unless it knocks again,
    // the renewed ban runs out.
    rig.advance(milliseconds{7200'000 - 10'000});
    CHECK(rig.pipeline->renew_knocking(milliseconds{15'000}) == 0);
    // Knocking again: the third ban of the key, escalated once more.
    rig.firewall.knock("exim", key("192.0.2.7"), 1, 60);
    CHECK(rig.pipeline->renew_knocking(milliseconds{15'000}) == 1);
    CHECK(rig.store.bans().back().expires - rig.store.bans().back().start == 14'400);
}

TEST_CASE("without knock_extend a knocking host's ban runs out", "[pipeline][knock]") {
    PipelineRig rig = knock_rig(false);
    rig.ban_by_log("192.0.2.7");
    rig.firewall.knock("exim", key("192.0.2.7"), 12, 720);
    rig.advance(milliseconds{3600'000 - 300 - 10'000});
    CHECK(rig.pipeline->renew_knocking(milliseconds{15'000}) == 0);
    CHECK(rig.firewall.commits() == 1);
    CHECK(rig.store.bans().size() == 1);
}

TEST_CASE("a renewal the store refuses changes nothing and is tried again", "[pipeline][knock]") {
    PipelineRig rig = knock_rig(true);
    rig.ban_by_log("192.0.2.7");
    rig.firewall.knock("exim", key("192.0.2.7"), 3, 180);
    rig.advance(milliseconds{3600'000 - 300 - 10'000});
    rig.store.fail_commits(1);
    CHECK(rig.pipeline->renew_knocking(milliseconds{15'000}) == 0);
    CHECK(rig.firewall.held("exim", key("192.0.2.7")) == milliseconds{10'000});
    CHECK(rig.store.bans().size() == 1);
    rig.advance(milliseconds{5000});
    CHECK(rig.pipeline->renew_knocking(milliseconds{15'000}) == 1);
    CHECK(rig.firewall.held("exim", key("192.0.2.7")) == milliseconds{7200'000});
}

TEST_CASE("a firewall that cannot be read renews nothing and is counted", "[pipeline][knock]") {
    PipelineRig rig = knock_rig(true);
    rig.ban_by_log("192.0.2.7");
    rig.firewall.knock("exim", key("192.0.2.7"), 3, 180);
    rig.advance(milliseconds{3600'000 - 300 - 10'000});
    rig.firewall.break_next_list(FirewallFault{EPERM, "netlink: Operation not permitted"});
    CHECK(rig.pipeline->renew_knocking(milliseconds{15'000}) == 0);
    CHECK(rig.pipeline->stats().firewall_failures == 1);
    CHECK(rig.store.bans().size() == 1);
}
