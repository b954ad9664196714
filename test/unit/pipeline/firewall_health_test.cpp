#include "firewall/firewall.hpp"
#include "pipeline/firewall_health.hpp"
#include "support/pipeline_rig.hpp"

#include <catch2/catch.hpp>
#include <cerrno>

using namespace exim_ban;
using namespace exim_ban::testing;
using std::chrono::milliseconds;

TEST_CASE("an audit puts back the bans the kernel lost without an error of ours", "[pipeline]") {
    PipelineRig rig;
    for (const char* time : {"10:00:00", "10:00:01", "10:00:02"})
        rig.line(failure_line(time, "192.0.2.7"));
    rig.pipeline->on_caught_up();
    REQUIRE(rig.firewall.held("exim", key("192.0.2.7")));
    const auto reconciles = rig.pipeline->stats().reconciles;
    rig.pipeline->audit_firewall(); // nothing lost, nothing changed
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
    // `nft flush ruleset` behind the daemon's back: no call of ours fails.
    REQUIRE_FALSE(rig.firewall.remove_all());
    REQUIRE_FALSE(rig.firewall.held("exim", key("192.0.2.7")));
    rig.pipeline->audit_firewall();
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
    CHECK(rig.pipeline->stats().reconciles == reconciles + 2);
}

TEST_CASE("a firewall failure is reconciled from the store later", "[pipeline]") {
    PipelineRig rig;
    rig.refused_ban("192.0.2.7", FirewallFault{ENOBUFS, "netlink: no buffer space"});
    CHECK(rig.store.bans().size() == 1);
    CHECK_FALSE(rig.firewall.held("exim", key("192.0.2.7")));
    CHECK(rig.pipeline->stats().firewall_failures == 1);
    rig.advance(rig.timer.requests.back());
    rig.pipeline->on_wake();
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
    CHECK(rig.pipeline->stats().reconciles == 1);
}

TEST_CASE("bans refused meanwhile do not put off the reconcile of a firewall failure",
          "[pipeline]") {
    PipelineRig rig;
    rig.refused_ban("192.0.2.7", FirewallFault{ENOBUFS, "netlink: no buffer space"});
    REQUIRE(rig.timer.requests.back() == milliseconds{100});
    // 50 ms later another ban is refused: the reconcile stays 50 ms away.
    rig.advance(milliseconds{50});
    rig.refused_ban("192.0.2.8", FirewallFault{ENOBUFS, "netlink: no buffer space"});
    CHECK(rig.pipeline->stats().firewall_failures == 2);
    rig.advance(milliseconds{50});
    rig.pipeline->on_wake();
    CHECK(rig.pipeline->stats().reconciles == 1);
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
    CHECK(rig.firewall.held("exim", key("192.0.2.8")));
}

TEST_CASE("only failed reconciles make the next one wait longer", "[pipeline]") {
    PipelineRig rig;
    for (const char* address : {"192.0.2.7", "192.0.2.8", "192.0.2.9", "192.0.2.10"}) {
        rig.refused_ban(address, FirewallFault{ENOBUFS, "netlink: no buffer space"});
    }
    CHECK(rig.pipeline->stats().firewall_failures == 4);
    rig.advance(milliseconds{100});
    rig.firewall.break_next(FirewallFault{ENOBUFS, "netlink: no buffer space"});
    rig.pipeline->on_wake();
    CHECK(rig.timer.requests.back() == milliseconds{200});
}

TEST_CASE("failed reconciles are retried from 100 ms, doubling up to 2 s", "[pipeline]") {
    PipelineRig rig;
    rig.refused_ban("192.0.2.7", FirewallFault{EPERM, "netlink: Operation not permitted"});
    std::vector<milliseconds> waits{rig.timer.requests.back()};
    for (int attempt = 0; attempt < 6; ++attempt) {
        rig.advance(waits.back());
        rig.firewall.break_next(FirewallFault{EPERM, "netlink: Operation not permitted"});
        rig.pipeline->on_wake();
        waits.push_back(rig.timer.requests.back());
    }
    CHECK(waits == std::vector<milliseconds>{
                       milliseconds{100}, milliseconds{200}, milliseconds{400}, milliseconds{800},
                       milliseconds{1600}, milliseconds{2000}, milliseconds{2000}});
    CHECK(rig.pipeline->stats().reconciles == 6);
    CHECK_FALSE(rig.firewall.held("exim", key("192.0.2.7")));
    rig.advance(waits.back());
    rig.pipeline->on_wake();
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
}

TEST_CASE("a commit that the kernel takes again brings the planned reconcile forward",
          "[pipeline]") {
    PipelineRig rig;
    rig.refused_ban("192.0.2.7", FirewallFault{ENOBUFS, "netlink: no buffer space"});
    for (int attempt = 0; attempt < 4; ++attempt) { // the next one is 1.6 s away
        rig.advance(rig.timer.requests.back());
        rig.firewall.break_next(FirewallFault{ENOBUFS, "netlink: no buffer space"});
        rig.pipeline->on_wake();
    }
    REQUIRE(rig.timer.requests.back() == milliseconds{1600});
    for (const char* time : {"10:00:00", "10:00:01", "10:00:02"})
        rig.line(failure_line(time, "192.0.2.8"));
    rig.pipeline->on_caught_up();
    CHECK(rig.firewall.held("exim", key("192.0.2.8")));
    CHECK(rig.timer.requests.back() == milliseconds{0});
    rig.pipeline->on_wake();
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
}

namespace {

// FirewallHealth alone on fakes: the store holds the bans, the test says
// what each commit came to.
struct HealthRig {
    HealthRig() {
        firewall.setup({FirewallJail{"exim", {25}, Verdict::drop, 64}});
        Batch batch;
        const std::int64_t now = wall_ms("10:00:02") / 1000;
        batch.bans.push_back({"exim", key("192.0.2.7"), now, now + 3600, "maxretry", "log"});
        // A jail no longer configured: its bans stay out of the kernel.
        batch.bans.push_back({"gone", key("192.0.2.8"), now, now + 3600, "maxretry", "log"});
        REQUIRE_FALSE(store.commit(batch));
    }

    FakeStore store;
    FakeFirewall firewall;
    FakeWakeTimer timer;
    PipelineStats stats;
    std::chrono::steady_clock::time_point steady{};
    FirewallHealth health{
        store,    firewall,
        timer,    PipelineClock{[] { return wall_ms("10:00:02"); }, [this] { return steady; }},
        {"exim"}, stats};
};

const CommitResult refused{.fault = FirewallFault{ENOBUFS, "netlink: no buffer space"}};

} // namespace

TEST_CASE("a refused commit plans a reconcile of the configured jails' stored bans", "[pipeline]") {
    HealthRig rig;
    rig.health.note(refused, "ban");
    CHECK(rig.stats.firewall_failures == 1);
    REQUIRE(rig.timer.requests == std::vector<milliseconds>{milliseconds{100}});
    rig.steady += milliseconds{60};
    rig.health.on_wake(); // too early: asks again for the rest
    CHECK(rig.timer.requests.back() == milliseconds{40});
    CHECK(rig.stats.reconciles == 0);
    rig.steady += milliseconds{40};
    rig.health.on_wake();
    CHECK(rig.stats.reconciles == 1);
    CHECK(rig.firewall.held("exim", key("192.0.2.7")) == milliseconds{3600'000});
    CHECK_FALSE(rig.firewall.held("gone", key("192.0.2.8")));
    // Healthy again: an audit runs at once, a success plans nothing.
    const auto asked = rig.timer.requests.size();
    rig.health.note(CommitResult{}, "ban");
    rig.health.audit();
    CHECK(rig.stats.reconciles == 2);
    CHECK(rig.timer.requests.size() == asked);
}

TEST_CASE("an audit waits while a reconcile is planned", "[pipeline]") {
    HealthRig rig;
    rig.health.request_reconcile();
    REQUIRE(rig.timer.requests.back() == milliseconds{0});
    rig.health.audit();
    CHECK(rig.stats.reconciles == 0);
    rig.health.on_wake();
    CHECK(rig.stats.reconciles == 1);
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
}

TEST_CASE("health: failed reconciles are retried from 100 ms, doubling up to 2 s, and a success "
          "starts the backoff again",
          "[pipeline]") {
    HealthRig rig;
    rig.health.note(refused, "ban");
    std::vector<milliseconds> waits{rig.timer.requests.back()};
    for (int attempt = 0; attempt < 6; ++attempt) {
        rig.steady += waits.back();
        rig.firewall.break_next(FirewallFault{EPERM, "netlink: Operation not permitted"});
        rig.health.on_wake();
        waits.push_back(rig.timer.requests.back());
    }
    CHECK(waits == std::vector<milliseconds>{
                       milliseconds{100}, milliseconds{200}, milliseconds{400}, milliseconds{800},
                       milliseconds{1600}, milliseconds{2000}, milliseconds{2000}});
    CHECK(rig.stats.reconciles == 6);
    CHECK(rig.stats.firewall_failures == 7);
    CHECK_FALSE(rig.firewall.held("exim", key("192.0.2.7")));
    rig.steady += waits.back();
    rig.health.on_wake();
    CHECK(rig.stats.reconciles == 7);
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
    // Recovered: the next failure waits 100 ms again, and no more.
    rig.health.note(refused, "ban");
    CHECK(rig.timer.requests.back() == milliseconds{100});
}

TEST_CASE("health: a commit the kernel takes again brings the planned reconcile forward",
          "[pipeline]") {
    HealthRig rig;
    rig.health.note(refused, "ban");
    for (int attempt = 0; attempt < 4; ++attempt) { // the next one is 1.6 s away
        rig.steady += rig.timer.requests.back();
        rig.firewall.break_next(FirewallFault{ENOBUFS, "netlink: no buffer space"});
        rig.health.on_wake();
    }
    REQUIRE(rig.timer.requests.back() == milliseconds{1600});
    rig.health.note(CommitResult{.added = 1}, "ban");
    CHECK(rig.timer.requests.back() == milliseconds{0});
    rig.health.on_wake();
    CHECK(rig.stats.reconciles == 5);
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
    // Healthy: a success plans nothing more.
    const auto asked = rig.timer.requests.size();
    rig.health.note(CommitResult{.added = 1}, "ban");
    CHECK(rig.timer.requests.size() == asked);
}

TEST_CASE("health: commits refused meanwhile do not put off the planned reconcile", "[pipeline]") {
    HealthRig rig;
    rig.health.note(refused, "ban");
    REQUIRE(rig.timer.requests == std::vector<milliseconds>{milliseconds{100}});
    rig.steady += milliseconds{50};
    rig.health.note(refused, "ban");
    rig.health.note(refused, "unban");
    CHECK(rig.stats.firewall_failures == 3);
    CHECK(rig.timer.requests.size() == 1); // the one planned stays 50 ms away
    rig.steady += milliseconds{50};
    rig.health.on_wake();
    CHECK(rig.stats.reconciles == 1);
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
}

TEST_CASE("health: a table repaired by a commit is reconciled at once, and counted", "[pipeline]") {
    HealthRig rig;
    rig.health.note(CommitResult{.added = 1, .repaired = true}, "ban");
    CHECK(rig.stats.firewall_failures == 1);
    REQUIRE(rig.timer.requests == std::vector<milliseconds>{milliseconds{0}});
    rig.health.on_wake();
    CHECK(rig.stats.reconciles == 1);
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
    // The reconcile went through: healthy again, an audit runs.
    rig.health.audit();
    CHECK(rig.stats.reconciles == 2);
}

TEST_CASE("health: an audit puts back the bans the kernel lost without an error of ours",
          "[pipeline]") {
    HealthRig rig;
    rig.health.audit(); // the kernel held nothing yet: the store's ban goes in
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
    rig.health.audit(); // nothing lost, nothing changed
    CHECK(rig.firewall.reconciles() == 2);
    // `nft flush ruleset` behind the daemon's back: no call of ours fails.
    REQUIRE_FALSE(rig.firewall.remove_all());
    rig.health.audit();
    CHECK(rig.firewall.held("exim", key("192.0.2.7")) == milliseconds{3600'000});
    CHECK_FALSE(rig.firewall.held("gone", key("192.0.2.8")));
    CHECK(rig.stats.reconciles == 3);
    CHECK(rig.stats.firewall_failures == 0);
    CHECK(rig.timer.requests.empty()); // an audit plans nothing
}

TEST_CASE("health: no audit while the firewall fails; a store that cannot be read is retried",
          "[pipeline]") {
    HealthRig rig;
    rig.health.note(refused, "ban");
    rig.steady += milliseconds{100};
    rig.firewall.break_next(FirewallFault{ENOBUFS, "netlink: no buffer space"});
    rig.health.on_wake(); // fails: still failing, nothing planned now
    rig.health.audit();
    CHECK(rig.stats.reconciles == 1);
    rig.steady += milliseconds{200};
    rig.store.fail_reads(1);
    rig.health.on_wake();
    CHECK(rig.stats.reconciles == 2);
    CHECK(rig.stats.store_failures == 1);
    CHECK(rig.timer.requests.back() == milliseconds{400});
    CHECK_FALSE(rig.firewall.held("exim", key("192.0.2.7")));
    rig.steady += milliseconds{400};
    rig.health.on_wake();
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
}
