#include "pipeline/ban_admin.hpp"
#include "support/fake_aside_committer.hpp"
#include "support/fake_firewall_results.hpp"
#include "support/pipeline_rig.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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

namespace {

// A BanAdmin alone on fakes: two jails, "exim" (escalating, knock_extend)
// and "other" (neither), a committer the test can make refuse, one clock
// moving log time and the firewall's timeouts together.
struct AdminRig {
    AdminRig() {
        firewall.setup({FirewallJail{"exim", {25}, Verdict::drop, 64},
                        FirewallJail{"other", {25}, Verdict::drop, 64}});
        jails.push_back(exim_jail([](JailPolicy& policy) {
            policy.increment = true;
            policy.factor = 2;
            policy.knock_extend = true;
        }));
        jails.push_back(exim_jail({}, "other"));
    }
    void advance(milliseconds time) {
        log_now_ms += time.count();
        firewall.advance(time);
    }
    // Whether maxretry hits of `address` in jail `jail`, now, make a ban:
    // not while the jail knows it banned.
    bool hits_ban(std::size_t jail, const char* address) {
        const std::int64_t now = log_now_ms / 1000;
        bool banned = false;
        for (int hit = 0; hit < 3; ++hit)
            banned = jails[jail]->judge(*IpAddress::parse(address), now, now).verdict ==
                     JailJudge::Verdict::banned;
        return banned;
    }

    std::vector<std::unique_ptr<JailRuntime>> jails;
    FakeAsideCommitter committer;
    FakeFirewall firewall;
    FakeFirewallResults results;
    PipelineStats stats;
    std::int64_t log_now_ms = wall_ms("10:00:02");
    int bans_changed = 0;
    BanAdmin admin{jails,
                   committer,
                   firewall,
                   results,
                   PipelineClock{[this] { return log_now_ms; },
                                 [] { return std::chrono::steady_clock::time_point{}; }},
                   stats,
                   [this] { ++bans_changed; }};
};

using Notes = std::vector<std::pair<bool, std::string>>;

} // namespace

TEST_CASE("admin: a manual ban is committed first, then in the kernel and known to the jail",
          "[pipeline]") {
    AdminRig rig;
    bool held_at_commit = true;
    rig.committer.on_commit = [&](const Batch&) {
        held_at_commit = rig.firewall.held("exim", key("198.51.100.4")).has_value();
    };
    REQUIRE_FALSE(rig.admin.ban(0, key("198.51.100.4"), std::chrono::seconds{600}));
    CHECK_FALSE(held_at_commit);
    REQUIRE(rig.committer.batches().size() == 1);
    const Batch& batch = rig.committer.batches()[0];
    CHECK(batch.hits.empty());
    CHECK(batch.unbans.empty());
    REQUIRE(batch.bans.size() == 1);
    const StoredBan& ban = batch.bans[0];
    CHECK(ban.jail == "exim");
    CHECK(ban.key == key("198.51.100.4"));
    CHECK(ban.start == rig.log_now_ms / 1000);
    CHECK(ban.expires - ban.start == 600);
    CHECK(ban.reason == "manual");
    CHECK(ban.origin == "manual");
    CHECK(rig.firewall.held("exim", key("198.51.100.4")) == milliseconds{600'000});
    CHECK_FALSE(rig.firewall.held("other", key("198.51.100.4")));
    CHECK(rig.results.notes == Notes{{true, "ban"}});
    CHECK(rig.stats.bans == 1);
    CHECK(rig.stats.manual_bans == 1);
    CHECK(rig.bans_changed == 1);
    // The jail knows: the log's hits make no second ban while it lasts; the
    // other jail was not told.
    CHECK_FALSE(rig.hits_ban(0, "198.51.100.4"));
    CHECK(rig.hits_ban(1, "198.51.100.4"));
}

TEST_CASE("admin: a manual ban the commit refuses reaches neither kernel nor jail", "[pipeline]") {
    AdminRig rig;
    rig.committer.refuse_next("database: database or disk is full");
    const auto error = rig.admin.ban(0, key("198.51.100.4"), std::chrono::seconds{600});
    REQUIRE(error);
    CHECK(*error == "database: database or disk is full");
    CHECK(rig.committer.refused() == 1);
    CHECK(rig.committer.batches().empty());
    CHECK(rig.firewall.commits() == 0);
    CHECK_FALSE(rig.firewall.held("exim", key("198.51.100.4")));
    CHECK(rig.results.notes.empty());
    CHECK(rig.stats.bans == 0);
    CHECK(rig.stats.manual_bans == 0);
    CHECK(rig.bans_changed == 0);
    CHECK(rig.hits_ban(0, "198.51.100.4"));
}

TEST_CASE("admin: an unban in one jail lifts that jail's ban, in all jails every one",
          "[pipeline]") {
    AdminRig rig;
    for (std::size_t jail : {0, 1})
        REQUIRE_FALSE(rig.admin.ban(jail, key("198.51.100.4"), std::chrono::seconds{600}));
    REQUIRE_FALSE(rig.admin.ban(0, key("198.51.100.5"), std::chrono::seconds{600}));
    rig.advance(milliseconds{1000});

    REQUIRE_FALSE(rig.admin.unban({key("198.51.100.4")}, 0));
    REQUIRE(rig.committer.batches().size() == 4);
    const Batch& one = rig.committer.batches()[3];
    CHECK(one.bans.empty());
    REQUIRE(one.unbans.size() == 1);
    CHECK(one.unbans[0].jail == "exim");
    CHECK(one.unbans[0].key == key("198.51.100.4"));
    CHECK(one.unbans[0].at == rig.log_now_ms / 1000);
    CHECK_FALSE(rig.firewall.held("exim", key("198.51.100.4")));
    CHECK(rig.firewall.held("other", key("198.51.100.4")));
    CHECK(rig.firewall.held("exim", key("198.51.100.5")));
    CHECK(rig.results.notes.back() == std::pair<bool, std::string>{true, "unban"});
    CHECK(rig.stats.unbans == 1);
    CHECK(rig.bans_changed == 4);

    // In all jails: stored without a jail, lifted in each.
    REQUIRE_FALSE(rig.admin.unban({key("198.51.100.4"), key("198.51.100.5")}, std::nullopt));
    REQUIRE(rig.committer.batches().size() == 5);
    const Batch& all = rig.committer.batches()[4];
    REQUIRE(all.unbans.size() == 2);
    CHECK(all.unbans[0].jail.empty());
    CHECK(all.unbans[1].key == key("198.51.100.5"));
    CHECK_FALSE(rig.firewall.held("other", key("198.51.100.4")));
    CHECK_FALSE(rig.firewall.held("exim", key("198.51.100.5")));
    CHECK(rig.results.notes.back() == std::pair<bool, std::string>{true, "unban"});
    CHECK(rig.stats.unbans == 3);
    CHECK(rig.bans_changed == 5);
    // Lifted: the jails' next hits ban again.
    CHECK(rig.hits_ban(0, "198.51.100.4"));
    CHECK(rig.hits_ban(1, "198.51.100.4"));
    CHECK(rig.hits_ban(0, "198.51.100.5"));
}

TEST_CASE("admin: an unban the commit refuses lifts nothing", "[pipeline]") {
    AdminRig rig;
    REQUIRE_FALSE(rig.admin.ban(0, key("198.51.100.4"), std::chrono::seconds{600}));
    rig.committer.refuse_next("the database does not take commits now");
    CHECK(rig.admin.unban({key("198.51.100.4")}, std::nullopt) ==
          std::optional<std::string>("the database does not take commits now"));
    // The jail still knows the ban, the kernel still holds it.
    CHECK_FALSE(rig.hits_ban(0, "198.51.100.4"));
    CHECK(rig.firewall.held("exim", key("198.51.100.4")));
    CHECK(rig.firewall.commits() == 1);
    CHECK(rig.stats.unbans == 0);
    CHECK(rig.bans_changed == 1);
}

TEST_CASE("admin: knock renewals renew only extending jails' knocking bans, escalated",
          "[pipeline][knock]") {
    AdminRig rig;
    REQUIRE_FALSE(rig.admin.ban(0, key("192.0.2.7"), std::chrono::seconds{3600}));
    REQUIRE_FALSE(rig.admin.ban(0, key("192.0.2.8"), std::chrono::seconds{3600}));
    REQUIRE_FALSE(rig.admin.ban(1, key("192.0.2.7"), std::chrono::seconds{3600}));
    rig.firewall.knock("exim", key("192.0.2.7"), 12, 720);
    rig.firewall.knock("other", key("192.0.2.7"), 12, 720);     // not extending
    CHECK(rig.admin.renew_knocking(milliseconds{15'000}) == 0); // far from its end
    CHECK(rig.committer.batches().size() == 3);
    rig.advance(milliseconds{3600'000 - 10'000});
    const int changed = rig.bans_changed;

    CHECK(rig.admin.renew_knocking(milliseconds{15'000}) == 1);
    REQUIRE(rig.committer.batches().size() == 4);
    const Batch& renewal = rig.committer.batches()[3];
    REQUIRE(renewal.bans.size() == 1);
    const StoredBan& ban = renewal.bans[0];
    CHECK(ban.jail == "exim");
    CHECK(ban.key == key("192.0.2.7"));
    CHECK(ban.start == rig.log_now_ms / 1000);
    CHECK(ban.expires - ban.start == 7200); // the key's second ban: bantime x 2
    CHECK(ban.reason == "knock");
    CHECK(ban.origin == "firewall");
    CHECK(rig.firewall.held("exim", key("192.0.2.7")) == milliseconds{7200'000});
    CHECK(rig.firewall.held("exim", key("192.0.2.8")) == milliseconds{10'000});
    CHECK(rig.firewall.held("other", key("192.0.2.7")) == milliseconds{10'000});
    CHECK(rig.results.notes.back() == std::pair<bool, std::string>{true, "knock renewal"});
    CHECK(rig.stats.knock_renewals == 1);
    CHECK(rig.stats.bans == 4);
    CHECK(rig.bans_changed == changed + 1);
    // The jail knows the renewal: the next one is the third ban, x 4.
    rig.advance(milliseconds{7200'000 - 10'000});
    rig.firewall.knock("exim", key("192.0.2.7"), 1, 60);
    CHECK(rig.admin.renew_knocking(milliseconds{15'000}) == 1);
    CHECK(rig.committer.batches().back().bans.at(0).expires -
              rig.committer.batches().back().bans.at(0).start ==
          14'400);
}

TEST_CASE("admin: a knock renewal the commit refuses changes nothing and is tried again",
          "[pipeline][knock]") {
    AdminRig rig;
    REQUIRE_FALSE(rig.admin.ban(0, key("192.0.2.7"), std::chrono::seconds{3600}));
    rig.firewall.knock("exim", key("192.0.2.7"), 3, 180);
    rig.advance(milliseconds{3600'000 - 10'000});
    const auto commits = rig.firewall.commits();
    rig.committer.refuse_next("database: database is locked");
    CHECK(rig.admin.renew_knocking(milliseconds{15'000}) == 0);
    CHECK(rig.committer.refused() == 1);
    CHECK(rig.firewall.commits() == commits);
    CHECK(rig.firewall.held("exim", key("192.0.2.7")) == milliseconds{10'000});
    CHECK(rig.results.notes.size() == 1);
    CHECK(rig.stats.knock_renewals == 0);
    CHECK(rig.stats.bans == 1);
    CHECK(rig.bans_changed == 1);

    rig.advance(milliseconds{5000});
    CHECK(rig.admin.renew_knocking(milliseconds{15'000}) == 1);
    CHECK(rig.firewall.held("exim", key("192.0.2.7")) == milliseconds{7200'000});
    CHECK(rig.stats.knock_renewals == 1);
}
