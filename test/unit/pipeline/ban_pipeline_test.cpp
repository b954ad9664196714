#include "core/exim_line.hpp"
#include "filter/filter_loader.hpp"
#include "filter/text_file_reader.hpp"
#include "pipeline/ban_pipeline.hpp"
#include "pipeline/log_source.hpp"
#include "pipeline/wake_timer.hpp"
#include "support/fake_firewall.hpp"
#include "support/fake_store.hpp"

#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

using namespace exim_ban;
using exim_ban::testing::FakeFirewall;
using exim_ban::testing::FakeStore;
using std::chrono::milliseconds;

namespace {

class FakeLogSource final : public LogSource {
  public:
    std::vector<LogPosition> positions() const override { return {position}; }
    void pause() override { paused = true; }
    void resume() override { paused = false; }
    LogPosition position{"/var/log/exim4/mainlog", 1, 2, "0:0000000000000000", 0};
    bool paused = false;
};

class FakeWakeTimer final : public WakeTimer {
  public:
    void wake_after(milliseconds after) override { requests.push_back(after); }
    std::vector<milliseconds> requests;
};

std::string failure_line(const std::string& time, const std::string& address) {
    return "2026-11-23 " + time + " login authenticator failed for (ylmf-pc) [" + address +
           "]: 535 Incorrect authentication data (set_id=admin)";
}

std::int64_t wall_ms(const std::string& time) {
    return split_exim_line("2026-11-23 " + time + " x")->time.wall_seconds * 1000;
}

// One jail "exim" on one log: maxretry 3 in 10 minutes, 1 hour bans.
struct Rig {
    explicit Rig(PipelineLimits limits = {.batch_lines = 1000,
                                          .batch_delay = milliseconds{100},
                                          .ban_delay = milliseconds{2},
                                          .max_backoff = milliseconds{30'000}},
                 FakeStore initial = {}, const std::function<void(JailPolicy&)>& adjust = {})
        : store(std::move(initial)) {
        JailConfig config;
        config.name = "exim";
        config.policy.maxretry = 3;
        config.policy.increment = false;
        if (adjust)
            adjust(config.policy);
        config.ignore.add(*IpPrefix::parse("203.0.113.0/24"));
        firewall.setup({FirewallJail{"exim", {25, 465, 587}, Verdict::drop, 64}});
        const LoadedFilter filter =
            load_filter(FilterSpec{"exim", {}}, EXIM_BAN_FILTERS_DIR, DiskTextFileReader{});
        std::vector<std::unique_ptr<JailRuntime>> jails;
        jails.push_back(std::make_unique<JailRuntime>(config, filter));
        restored = restore_jail(*jails.front(), store).value();
        pipeline = std::make_unique<BanPipeline>(
            std::move(jails), std::vector<std::vector<std::size_t>>{{0}}, store, firewall, timer,
            PipelineClock{[this] { return log_now_ms; }, [this] { return steady; }}, limits);
        pipeline->attach(source);
    }
    // Hands a line on as the tailer does: the position moves past it first.
    void line(const std::string& text) {
        source.position.offset += text.size() + 1;
        pipeline->on_line(0, text, false);
    }
    // A burst of maxretry failures of `address` whose ban the kernel refuses.
    void refused_ban(const std::string& address, FirewallFault fault) {
        firewall.break_next(std::move(fault));
        for (const char* time : {"10:00:00", "10:00:01", "10:00:02"})
            line(failure_line(time, address));
        pipeline->on_caught_up();
    }
    void advance(milliseconds time) {
        steady += time;
        log_now_ms += time.count();
        firewall.advance(time);
    }

    FakeStore store;
    FakeFirewall firewall;
    FakeWakeTimer timer;
    FakeLogSource source;
    std::int64_t log_now_ms = wall_ms("10:00:02") + 300;
    std::chrono::steady_clock::time_point steady{};
    RestoredMemory restored;
    std::unique_ptr<BanPipeline> pipeline;
};

BanKey key(const char* address) {
    return ban_key(*IpAddress::parse(address), 64);
}

} // namespace

TEST_CASE("a ban is committed with its hits and offset, then reaches the firewall", "[pipeline]") {
    Rig rig;
    rig.line(failure_line("10:00:00", "192.0.2.7"));
    rig.line("2026-11-23 10:00:01 1tXyZa-000123-AB <= someone@example.org H=(x) [192.0.2.9]");
    rig.line(failure_line("10:00:01", "192.0.2.7"));
    rig.line(failure_line("10:00:02", "192.0.2.7"));
    CHECK(rig.store.batches().empty()); // a ban waits for the burst to end, or ban_delay
    CHECK_FALSE(rig.firewall.held("exim", key("192.0.2.7")));
    rig.pipeline->on_caught_up();

    REQUIRE(rig.store.batches().size() == 1);
    const Batch& batch = rig.store.batches().front();
    CHECK(batch.hits.size() == 3);
    REQUIRE(batch.bans.size() == 1);
    CHECK(batch.bans[0].key == key("192.0.2.7"));
    CHECK(batch.bans[0].expires - batch.bans[0].start == 3600);
    REQUIRE(batch.files.size() == 1);
    CHECK(batch.files[0].offset == rig.source.position.offset);
    // The kernel's timeout is counted from the line's time: 0.3 s have passed.
    CHECK(rig.firewall.held("exim", key("192.0.2.7")) == milliseconds{3600'000 - 300});
    CHECK(rig.pipeline->stats().bans == 1);
}

TEST_CASE("a line cut at max_line_bytes is counted and never a hit", "[pipeline]") {
    Rig rig;
    // Its head is a whole failure line; the forged rest was cut away.
    for (int n = 0; n < 3; ++n) {
        const std::string cut = failure_line("10:00:0" + std::to_string(n), "198.51.100.1");
        rig.source.position.offset += cut.size() + 1;
        rig.pipeline->on_line(0, cut, true);
    }
    rig.line(failure_line("10:00:02", "192.0.2.7"));
    rig.advance(milliseconds{100});
    rig.pipeline->on_wake();
    REQUIRE(rig.store.batches().size() == 1);
    REQUIRE(rig.store.batches().front().hits.size() == 1);
    CHECK(rig.store.batches().front().hits[0].key == key("192.0.2.7"));
    CHECK(rig.store.batches().front().bans.empty());
    CHECK(rig.pipeline->stats().cut_lines == 3);
    CHECK(rig.pipeline->stats().untimed_lines == 0);
    CHECK(rig.pipeline->stats().lines == 4);
}

TEST_CASE("an audit puts back the bans the kernel lost without an error of ours", "[pipeline]") {
    Rig rig;
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

TEST_CASE("a batch closes after batch_lines, or batch_delay after it opened", "[pipeline]") {
    Rig rig({.batch_lines = 10, .batch_delay = milliseconds{100}});
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
    Rig rig;
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
    Rig rig;
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

TEST_CASE("a firewall failure is reconciled from the store later", "[pipeline]") {
    Rig rig;
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
    Rig rig;
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
    Rig rig;
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
    Rig rig;
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
    Rig rig;
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

TEST_CASE("old lines and ignored hosts never start a ban", "[pipeline]") {
    Rig rig;
    rig.log_now_ms = wall_ms("11:00:00");
    for (const char* time : {"10:00:00", "10:00:01", "10:00:02"})
        rig.line(failure_line(time, "192.0.2.7")); // an hour old: a backlog
    for (const char* time : {"10:59:58", "10:59:59", "11:00:00"})
        rig.line(failure_line(time, "203.0.113.5")); // ignoreip
    rig.pipeline->on_caught_up();
    rig.advance(milliseconds{100});
    rig.pipeline->on_wake();
    CHECK(rig.store.hits().size() == 3);
    CHECK(rig.store.bans().empty());
    CHECK(rig.pipeline->stats().ignored_hosts == 3);
}

TEST_CASE("after a restart the store's memory completes the window", "[pipeline]") {
    FakeStore carried;
    {
        Rig before;
        before.line(failure_line("10:00:00", "192.0.2.7"));
        before.line(failure_line("10:00:01", "192.0.2.7"));
        REQUIRE(before.pipeline->flush());
        carried = before.store;
    }
    // A new daemon on the same store: the third hit completes the count.
    Rig after({}, carried);
    CHECK(after.restored.keys == 1);
    CHECK(after.restored.hits == 2);
    after.line(failure_line("10:00:02", "192.0.2.7"));
    after.pipeline->on_caught_up();
    CHECK(after.store.bans().size() == 1);
}

TEST_CASE("a manual ban and unban go through the store, the firewall and the tracker",
          "[pipeline]") {
    Rig rig;
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
    Rig rig;
    rig.store.fail_commits(1);
    const auto error = rig.pipeline->manual_ban(0, key("198.51.100.4"), std::chrono::seconds{60});
    REQUIRE(error);
    CHECK(error->find("database: database or disk is full") == 0);
    CHECK_FALSE(rig.firewall.held("exim", key("198.51.100.4")));
    CHECK(rig.pipeline->stats().manual_bans == 0);
}

namespace {

// Three failures of `address` a second apart from 10:00:00, caught up: a ban.
void ban_by_log(Rig& rig, const char* address) {
    for (const char* time : {"10:00:00", "10:00:01", "10:00:02"})
        rig.line(failure_line(time, address));
    rig.pipeline->on_caught_up();
}

Rig knock_rig(bool knock_extend) {
    return Rig({}, {}, [&](JailPolicy& policy) {
        policy.increment = true;
        policy.factor = 2;
        policy.knock_extend = knock_extend;
    });
}

} // namespace

TEST_CASE("knock_extend renews a ban that blocked packets as it ends, with the next escalated time",
          "[pipeline][knock]") {
    Rig rig = knock_rig(true);
    ban_by_log(rig, "192.0.2.7");
    ban_by_log(rig, "192.0.2.8");
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
    Rig rig = knock_rig(false);
    ban_by_log(rig, "192.0.2.7");
    rig.firewall.knock("exim", key("192.0.2.7"), 12, 720);
    rig.advance(milliseconds{3600'000 - 300 - 10'000});
    CHECK(rig.pipeline->renew_knocking(milliseconds{15'000}) == 0);
    CHECK(rig.firewall.commits() == 1);
    CHECK(rig.store.bans().size() == 1);
}

TEST_CASE("a renewal the store refuses changes nothing and is tried again", "[pipeline][knock]") {
    Rig rig = knock_rig(true);
    ban_by_log(rig, "192.0.2.7");
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
    Rig rig = knock_rig(true);
    ban_by_log(rig, "192.0.2.7");
    rig.firewall.knock("exim", key("192.0.2.7"), 3, 180);
    rig.advance(milliseconds{3600'000 - 300 - 10'000});
    rig.firewall.break_next_list(FirewallFault{EPERM, "netlink: Operation not permitted"});
    CHECK(rig.pipeline->renew_knocking(milliseconds{15'000}) == 0);
    CHECK(rig.pipeline->stats().firewall_failures == 1);
    CHECK(rig.store.bans().size() == 1);
}
