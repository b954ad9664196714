#include "firewall/firewall.hpp"
#include "pipeline/batcher.hpp"
#include "support/fake_firewall_results.hpp"
#include "support/pipeline_rig.hpp"

#include <catch2/catch.hpp>
#include <cerrno>

using namespace exim_ban;
using namespace exim_ban::testing;
using std::chrono::milliseconds;

TEST_CASE("a batch closes after batch_lines, or batch_delay after it opened", "[pipeline]") {
    PipelineRig rig({.batch_lines = 10, .batch_delay = milliseconds{100}});
    for (int i = 0; i < 25; ++i)
        rig.line("2026-11-23 10:00:00 benign line " + std::to_string(i));
    CHECK(rig.store.batches().size() == 2);
    CHECK(rig.store.batches()[1].files[0].offset < rig.source.position.offset);
    rig.pipeline->on_caught_up(); // no ban: nothing is due yet
    CHECK(rig.store.batches().size() == 2);
    REQUIRE_FALSE(rig.timer.requests.empty());
    CHECK(rig.timer.requests.back() == milliseconds{100});
    rig.advance(milliseconds{50});
    rig.pipeline->on_wake();
    CHECK(rig.store.batches().size() == 2);
    CHECK(rig.timer.requests.back() == milliseconds{50}); // asks again for the rest
    rig.advance(milliseconds{50});
    rig.pipeline->on_wake();
    REQUIRE(rig.store.batches().size() == 3);
    CHECK(rig.store.batches()[2].files[0].offset == rig.source.position.offset);
    CHECK(rig.pipeline->stats().lines == 25);
}

TEST_CASE("under a continuous stream a ban closes its batch after ban_delay", "[pipeline]") {
    PipelineRig rig;
    for (const char* time : {"10:00:00", "10:00:01", "10:00:02"})
        rig.line(failure_line(time, "192.0.2.7"));
    rig.line("2026-11-23 10:00:02 benign");
    CHECK(rig.store.batches().empty());
    rig.advance(milliseconds{2});
    // The clock is read every 256 lines: the batch closes within that many.
    int lines = 0;
    while (rig.store.batches().empty() && lines < 256)
        rig.line("2026-11-23 10:00:02 benign, 2 ms later " + std::to_string(lines++));
    REQUIRE(rig.store.batches().size() == 1);
    CHECK(rig.store.batches()[0].bans.size() == 1);
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
}

TEST_CASE("a store that cannot commit pauses the log and loses nothing", "[pipeline]") {
    PipelineRig rig;
    rig.store.fail_commits(3);
    for (const char* time : {"10:00:00", "10:00:01", "10:00:02"})
        rig.line(failure_line(time, "192.0.2.7"));
    rig.pipeline->on_caught_up();
    CHECK(rig.source.paused);
    CHECK(rig.store.batches().empty());
    CHECK_FALSE(rig.firewall.held("exim", key("192.0.2.7"))); // never before the commit
    // Backoff doubles: 100, 200, 400 ms.
    for (int wait : {100, 200, 400}) {
        CHECK(rig.timer.requests.back() == milliseconds{wait});
        rig.advance(milliseconds{wait});
        rig.pipeline->on_wake();
    }
    CHECK_FALSE(rig.source.paused);
    CHECK(rig.store.failed_commits() == 3);
    REQUIRE(rig.store.batches().size() == 1);
    CHECK(rig.store.hits().size() == 3);
    CHECK(rig.store.bans().size() == 1);
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
    CHECK(rig.pipeline->stats().store_failures == 3);
}

namespace {

// A Batcher alone on fakes: no jail matching, the test adds hits and bans.
struct BatcherRig {
    explicit BatcherRig(PipelineLimits given = {.max_backoff = milliseconds{250}})
        : limits(given) {
        firewall.setup({FirewallJail{"exim", {25}, Verdict::drop, 64}});
        batcher.attach(source);
    }
    // A line with no hit, read as the tailer does: the position moves first.
    void line() {
        source.position.offset += 100;
        batcher.add_line();
        batcher.line_done();
    }
    void ban(const char* address) {
        source.position.offset += 100;
        batcher.add_line();
        const BanDecision decision{key(address), wall_ms("10:00:02") / 1000,
                                   std::chrono::seconds{3600}};
        batcher.add_ban(
            {"exim", decision.key, decision.start, decision.start + 3600, "maxretry", "log"},
            {jail.get(), decision, 0});
        batcher.line_done();
    }

    FakeStore store;
    FakeFirewall firewall;
    FakeWakeTimer timer;
    FakeLogSource source;
    FakeFirewallResults results;
    std::unique_ptr<JailRuntime> jail = exim_jail();
    PipelineStats stats;
    std::chrono::steady_clock::time_point steady{};
    int bans_changed = 0;
    PipelineLimits limits;
    Batcher batcher{store,
                    firewall,
                    results,
                    timer,
                    PipelineClock{[] { return wall_ms("10:00:02"); }, [this] { return steady; }},
                    limits,
                    stats,
                    [this] { ++bans_changed; }};
};

} // namespace

TEST_CASE("the batcher hands each firewall commit's result on, after the store's commit",
          "[pipeline]") {
    BatcherRig rig;
    rig.ban("192.0.2.7");
    CHECK(rig.results.notes.empty());
    rig.batcher.on_caught_up();
    REQUIRE(rig.store.bans().size() == 1);
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
    CHECK(rig.results.notes == std::vector<std::pair<bool, std::string>>{{true, "ban"}});
    CHECK(rig.bans_changed == 1);

    rig.firewall.break_next(FirewallFault{ENOBUFS, "netlink: no buffer space"});
    rig.ban("192.0.2.8");
    rig.batcher.on_caught_up();
    REQUIRE(rig.results.notes.size() == 2);
    CHECK_FALSE(rig.results.notes[1].first);
    // The batcher itself plans nothing for the firewall: no wake-up beyond
    // the batch's own.
    CHECK(rig.timer.requests == std::vector<milliseconds>{milliseconds{100}, milliseconds{2},
                                                          milliseconds{100}, milliseconds{2}});
}

TEST_CASE("a refused commit is retried with backoff up to max_backoff, and the source resumed",
          "[pipeline]") {
    BatcherRig rig;
    rig.store.fail_commits(4);
    rig.ban("192.0.2.7");
    CHECK_FALSE(rig.batcher.flush());
    CHECK(rig.source.paused);
    std::vector<milliseconds> waits{rig.timer.requests.back()};
    for (int attempt = 0; attempt < 3; ++attempt) {
        rig.steady += waits.back();
        rig.batcher.on_wake();
        waits.push_back(rig.timer.requests.back());
    }
    CHECK(waits == std::vector<milliseconds>{milliseconds{100}, milliseconds{200},
                                             milliseconds{250}, milliseconds{250}});
    CHECK(rig.source.paused);
    rig.steady += waits.back();
    rig.batcher.on_wake();
    CHECK_FALSE(rig.source.paused);
    CHECK(rig.store.bans().size() == 1);
    CHECK(rig.stats.store_failures == 4);
    CHECK(rig.stats.commits == 1);
    // A commit aside goes after the open batch, with the positions read.
    rig.source.position.offset = 4242;
    Batch aside;
    aside.unbans.push_back({"exim", key("192.0.2.7"), wall_ms("10:00:03") / 1000});
    CHECK_FALSE(rig.batcher.commit_aside(aside));
    REQUIRE(rig.store.batches().size() == 2);
    CHECK(rig.store.batches()[1].files.at(0).offset == 4242);
}

TEST_CASE("batcher: a batch closes after batch_lines, or batch_delay after it opened",
          "[pipeline]") {
    BatcherRig rig({.batch_lines = 10, .batch_delay = milliseconds{100}});
    for (int i = 0; i < 25; ++i)
        rig.line();
    REQUIRE(rig.store.batches().size() == 2);
    CHECK(rig.store.batches()[0].files.at(0).offset == 1000);
    CHECK(rig.store.batches()[1].files.at(0).offset == 2000);
    CHECK(rig.timer.requests ==
          std::vector<milliseconds>{milliseconds{100}, milliseconds{100}, milliseconds{100}});
    rig.batcher.on_caught_up(); // no ban: nothing is due yet
    CHECK(rig.store.batches().size() == 2);
    rig.steady += milliseconds{60};
    rig.batcher.on_wake();
    CHECK(rig.store.batches().size() == 2);
    CHECK(rig.timer.requests.back() == milliseconds{40}); // asks again for the rest
    rig.steady += milliseconds{40};
    rig.batcher.on_wake();
    REQUIRE(rig.store.batches().size() == 3);
    CHECK(rig.store.batches()[2].files.at(0).offset == 2500);
    CHECK(rig.stats.commits == 3);
    CHECK(rig.bans_changed == 0); // no ban in them
    rig.steady += milliseconds{100};
    rig.batcher.on_wake(); // nothing open: nothing to commit
    CHECK(rig.store.batches().size() == 3);
}

TEST_CASE("batcher: a ban closes its batch once the log is caught up, or ban_delay after it",
          "[pipeline]") {
    BatcherRig rig;
    rig.ban("192.0.2.7");
    rig.line();
    CHECK(rig.store.batches().empty()); // a ban waits for the burst to end
    CHECK(rig.timer.requests.back() == milliseconds{2});
    rig.batcher.on_caught_up();
    REQUIRE(rig.store.batches().size() == 1);
    CHECK(rig.store.batches()[0].bans.size() == 1);
    CHECK(rig.store.batches()[0].files.at(0).offset == 200);
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));

    // No more lines and no catching up: the wake-up after ban_delay.
    rig.ban("192.0.2.8");
    rig.steady += milliseconds{1};
    rig.batcher.on_wake();
    CHECK(rig.store.batches().size() == 1);
    CHECK(rig.timer.requests.back() == milliseconds{1});
    rig.steady += milliseconds{1};
    rig.batcher.on_wake();
    REQUIRE(rig.store.batches().size() == 2);
    CHECK(rig.firewall.held("exim", key("192.0.2.8")));
    CHECK(rig.bans_changed == 2);
}

TEST_CASE("batcher: under a continuous stream a ban closes its batch after ban_delay",
          "[pipeline]") {
    BatcherRig rig;
    rig.ban("192.0.2.7");
    for (int i = 0; i < 300; ++i)
        rig.line(); // the same instant: never due
    CHECK(rig.store.batches().empty());
    rig.steady += milliseconds{2};
    // The clock is read every 256 lines: the batch closes within that many.
    int lines = 0;
    while (rig.store.batches().empty() && lines < 256) {
        rig.line();
        ++lines;
    }
    REQUIRE(rig.store.batches().size() == 1);
    CHECK(lines == 256 - 301 % 256);
    CHECK(rig.store.batches()[0].bans.size() == 1);
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
}

TEST_CASE("batcher: a store that refuses pauses the source, retries after 100, 200, 400 ms and "
          "resumes it, losing nothing",
          "[pipeline]") {
    BatcherRig rig(PipelineLimits{});
    rig.store.fail_commits(3);
    rig.ban("192.0.2.7");
    rig.line();
    rig.batcher.on_caught_up();
    CHECK(rig.source.paused);
    CHECK(rig.store.batches().empty());
    CHECK_FALSE(rig.firewall.held("exim", key("192.0.2.7"))); // never before the commit
    CHECK(rig.results.notes.empty());
    rig.batcher.on_caught_up(); // paused: no try before the backoff
    CHECK(rig.store.failed_commits() == 1);
    // While paused, a line that still arrives joins the kept batch.
    rig.line();
    for (int wait : {100, 200, 400}) {
        REQUIRE(rig.timer.requests.back() == milliseconds{wait});
        rig.steady += milliseconds{wait - 1};
        rig.batcher.on_wake(); // too early: asks again for the rest
        CHECK(rig.timer.requests.back() == milliseconds{1});
        rig.steady += milliseconds{1};
        rig.batcher.on_wake();
    }
    CHECK_FALSE(rig.source.paused);
    CHECK(rig.store.failed_commits() == 3);
    REQUIRE(rig.store.batches().size() == 1);
    CHECK(rig.store.batches()[0].bans.size() == 1);
    CHECK(rig.store.batches()[0].files.at(0).offset == 300);
    CHECK(rig.firewall.held("exim", key("192.0.2.7")));
    CHECK(rig.stats.store_failures == 3);
    CHECK(rig.stats.commits == 1);
    CHECK(rig.bans_changed == 1);
    // Resumed, the backoff starts again from 100 ms.
    rig.store.fail_commits(1);
    rig.ban("192.0.2.8");
    CHECK_FALSE(rig.batcher.flush());
    CHECK(rig.timer.requests.back() == milliseconds{100});
}
