#include "support/pipeline_rig.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <set>

using namespace exim_ban;
using namespace exim_ban::testing;
using std::chrono::milliseconds;

TEST_CASE("a ban is committed with its hits and offset, then reaches the firewall", "[pipeline]") {
    PipelineRig rig;
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
    PipelineRig rig;
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

TEST_CASE("old lines and ignored hosts never start a ban", "[pipeline]") {
    PipelineRig rig;
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
        PipelineRig before;
        before.line(failure_line("10:00:00", "192.0.2.7"));
        before.line(failure_line("10:00:01", "192.0.2.7"));
        REQUIRE(before.pipeline->flush());
        carried = before.store;
    }
    // A new daemon on the same store: the third hit completes the count.
    PipelineRig after({}, carried);
    CHECK(after.restored.keys == 1);
    CHECK(after.restored.hits == 2);
    after.line(failure_line("10:00:02", "192.0.2.7"));
    after.pipeline->on_caught_up();
    CHECK(after.store.bans().size() == 1);
}

TEST_CASE("a syslog file's split entries count once, as their mainlog lines", "[pipeline]") {
    PipelineRig rig;
    const std::string failure = failure_line("10:00:00", "192.0.2.7").substr(20);
    const std::string head = failure.substr(0, 40), tail = failure.substr(40);
    for (const char* time : {"10:00:00", "10:00:01", "10:00:02"}) {
        const std::string date = std::string("Nov 23 ") + time;
        rig.line(date + " mx1 exim[77]: [1/2] [77] " + head);
        rig.line(date + " mx1 exim[78]: other process");
        rig.line(date + " mx1 exim[77]: [2/2] " + tail);
    }
    // A part after a lost one: dropped, never a hit of the text it carries.
    rig.line("Nov 23 10:00:03 mx1 exim[79]: [2/2] " + failure_line("10:00:03", "198.51.100.1"));
    rig.pipeline->on_caught_up();
    REQUIRE(rig.store.batches().size() == 1);
    const Batch& batch = rig.store.batches().front();
    REQUIRE(batch.hits.size() == 3);
    CHECK(batch.hits[0].key == key("192.0.2.7"));
    CHECK(batch.hits[0].time == wall_ms("10:00:00") / 1000);
    REQUIRE(batch.bans.size() == 1);
    CHECK(batch.bans[0].key == key("192.0.2.7"));
    CHECK(rig.pipeline->stats().lines == 10);
    CHECK(rig.pipeline->stats().untimed_lines == 0);
    CHECK(rig.pipeline->stats().dropped_parts == 1);
}

TEST_CASE("a shared mail.log: each jail's filter reads its own program's lines, and a "
          "summary of N attempts is N hits",
          "[pipeline]") {
    FakeStore store;
    FakeFirewall firewall;
    FakeWakeTimer timer;
    FakeLogSource source;
    std::int64_t log_now_ms = wall_ms("10:00:05");
    firewall.setup({FirewallJail{"exim", {25, 465, 587}, Verdict::drop, 64},
                    FirewallJail{"dovecot", {110, 143, 993, 995, 4190}, Verdict::drop, 64}});
    std::vector<std::unique_ptr<JailRuntime>> jails;
    jails.push_back(exim_jail());
    JailConfig config;
    config.name = "dovecot";
    config.policy.maxretry = 3;
    config.policy.increment = false;
    jails.push_back(std::make_unique<JailRuntime>(
        config, std::vector<LoadedFilter>{load_filter(
                    FilterSpec{"dovecot", {}}, EXIM_BAN_FILTERS_DIR, DiskTextFileReader{})}));
    BanPipeline pipeline(std::move(jails), {{SourceRoute{0, 0}, SourceRoute{1, 0}}}, store,
                         firewall, timer,
                         PipelineClock{[&] { return log_now_ms; },
                                       [] { return std::chrono::steady_clock::time_point{}; }},
                         PipelineLimits{.batch_lines = 1000,
                                        .batch_delay = milliseconds{100},
                                        .ban_delay = milliseconds{2},
                                        .max_backoff = milliseconds{30'000}});
    pipeline.attach(source);
    const auto line = [&](const std::string& text) {
        source.position.offset += text.size() + 1;
        pipeline.on_line(0, text, false);
    };
    const std::string summary =
        "imap-login: Disconnected (auth failed, 3 attempts in 9 secs): user=<bob>, "
        "method=PLAIN, rip=192.0.2.30, lip=192.0.2.1, session=<HVCzzBNi3a7LAHEN>";
    line("Nov 23 10:00:00 mx1 exim[7]: 2026-11-23 10:00:00 login authenticator failed for (x) "
         "[192.0.2.20]: 535 Incorrect authentication data (set_id=bob)");
    // auth_verbose: the auth process's lines of the same session, then its summary.
    line("Nov 23 10:00:01 mx1 dovecot: auth: passwd-file(bob,192.0.2.30,<HVCzzBNi3a7LAHEN>): "
         "Password mismatch");
    line("Nov 23 10:00:02 mx1 dovecot: auth: passwd-file(bob,192.0.2.30,<HVCzzBNi3a7LAHEN>): "
         "Password mismatch");
    line("Nov 23 10:00:03 mx1 dovecot: " + summary);
    // Without auth_verbose: the summary alone is three attempts.
    line("Nov 23 10:00:04 mx1 dovecot: " + summary.substr(0, summary.find("192.0.2.30")) +
         "192.0.2.31, lip=192.0.2.1, session=<0/FQ2xNiF7DLAHEh>");
    line("Nov 23 10:00:05 mx1 postfix/smtpd[9]: connect from x[192.0.2.32]");
    pipeline.on_caught_up();

    REQUIRE(store.batches().size() == 1);
    std::map<std::string, int> hits;
    for (const auto& hit : store.batches().front().hits)
        ++hits[hit.jail + " " + hit.key.to_string()];
    CHECK(hits == std::map<std::string, int>{{"exim 192.0.2.20", 1},
                                             {"dovecot 192.0.2.30", 3},
                                             {"dovecot 192.0.2.31", 3}});
    std::set<std::string> bans;
    for (const auto& ban : store.batches().front().bans)
        bans.insert(ban.jail + " " + ban.key.to_string());
    CHECK(bans == std::set<std::string>{"dovecot 192.0.2.30", "dovecot 192.0.2.31"});
    // Only the Postfix line is no reader's.
    CHECK(pipeline.stats().untimed_lines == 1);
}

TEST_CASE("a jail's sources count one key's hits together: two logs, one ban", "[pipeline]") {
    FakeStore store;
    FakeFirewall firewall;
    FakeWakeTimer timer;
    FakeLogSource source;
    firewall.setup({FirewallJail{"mail", {25, 143}, Verdict::drop, 64}});
    JailConfig config;
    config.name = "mail";
    config.policy.maxretry = 3;
    const LoadedFilter exim =
        load_filter(FilterSpec{"exim", {}}, EXIM_BAN_FILTERS_DIR, DiskTextFileReader{});
    std::vector<std::unique_ptr<JailRuntime>> jails;
    jails.push_back(std::make_unique<JailRuntime>(config, std::vector<LoadedFilter>{exim, exim}));
    // Log 0 is read by the jail's first source, log 1 by its second.
    std::int64_t now_ms = wall_ms("10:00:02") + 300;
    BanPipeline pipeline(std::move(jails), {{SourceRoute{0, 0}}, {SourceRoute{0, 1}}}, store,
                         firewall, timer,
                         PipelineClock{[&] { return now_ms; },
                                       [] { return std::chrono::steady_clock::time_point{}; }});
    pipeline.attach(source);
    pipeline.on_line(0, failure_line("10:00:00", "192.0.2.7"), false);
    pipeline.on_line(1, failure_line("10:00:01", "192.0.2.7"), false);
    pipeline.on_line(0, failure_line("10:00:02", "192.0.2.7"), false);
    pipeline.on_caught_up();
    REQUIRE(store.batches().size() == 1);
    CHECK(store.batches().front().hits.size() == 3);
    REQUIRE(store.batches().front().bans.size() == 1);
    CHECK(store.batches().front().bans[0].jail == "mail");
    CHECK(firewall.held("mail", key("192.0.2.7")));
}

namespace {
std::string login_line(const std::string& time, const std::string& address,
                       const std::string& account) {
    return "2026-11-23 " + time + " 1xaf2t-0006hW-04 <= " + account + "@lab.example H=(laptop) [" +
           address +
           "] P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=login_server:" + account +
           " S=478 id=1@vm";
}
std::string failure_for(const std::string& time, const std::string& address,
                        const std::string& account) {
    return "2026-11-23 " + time + " login authenticator failed for (laptop) [" + address +
           "]: 535 Incorrect authentication data (set_id=" + account + ")";
}
} // namespace

TEST_CASE("a good login excuses its account's mistakes from its key, not another's",
          "[pipeline][trust]") {
    PipelineRig rig;
    rig.line(login_line("09:00:00", "192.0.2.7", "alice"));
    // A phone with a stale password: 20 mistakes (trust_maxretry), no ban.
    for (int i = 0; i < 20; ++i)
        rig.line(failure_for("10:00:" + std::string(i < 10 ? "0" : "") + std::to_string(i),
                             "192.0.2.7", "alice"));
    REQUIRE(rig.pipeline->flush());
    CHECK(rig.store.bans().empty());
    CHECK(rig.store.hits().empty());
    CHECK(rig.pipeline->stats().excused == 20);
    CHECK(rig.pipeline->stats().logins == 1);
    REQUIRE(rig.store.batches().size() == 1);
    CHECK(rig.store.batches()[0].successes.size() == 1);
    CHECK(rig.store.batches()[0].mistakes.size() == 20);
    // Another account from the same key: banned at maxretry (3).
    for (const char* time : {"10:00:30", "10:00:31", "10:00:32"})
        rig.line(failure_for(time, "192.0.2.7", "bob"));
    rig.pipeline->on_caught_up();
    REQUIRE(rig.store.bans().size() == 1);
    CHECK(rig.store.bans()[0].key == key("192.0.2.7"));
    // The ban dropped the key's trust.
    CHECK(rig.pipeline->jails()[0]->trusted(rig.log_now_ms / 1000).empty());
}

TEST_CASE("trust and the excused mistakes survive a restart", "[pipeline][trust]") {
    FakeStore carried;
    {
        PipelineRig before;
        before.line(login_line("09:00:00", "192.0.2.7", "alice"));
        for (int i = 0; i < 19; ++i)
            before.line(failure_for("10:00:" + std::string(i < 10 ? "0" : "") + std::to_string(i),
                                    "192.0.2.7", "alice"));
        REQUIRE(before.pipeline->flush());
        carried = before.store;
    }
    PipelineRig after({}, carried);
    REQUIRE(
        after.pipeline->jails()[0]->restore_trust(after.store, after.log_now_ms / 1000).value() ==
        1);
    CHECK(after.pipeline->jails()[0]->trusted(after.log_now_ms / 1000).size() == 1);
    // The 20th mistake is still excused; the next ones count: maxretry 3.
    after.line(failure_for("10:00:19", "192.0.2.7", "alice"));
    for (const char* time : {"10:00:20", "10:00:21", "10:00:22"})
        after.line(failure_for(time, "192.0.2.7", "alice"));
    after.pipeline->on_caught_up();
    CHECK(after.pipeline->stats().excused == 1);
    CHECK(after.store.bans().size() == 1);
}

TEST_CASE("a restart between a session's auth-process lines and its summary counts each attempt "
          "once",
          "[pipeline]") {
    FakeStore store;
    FakeFirewall firewall;
    FakeWakeTimer timer;
    FakeLogSource source;
    firewall.setup({FirewallJail{"dovecot", {143}, Verdict::drop, 64}});
    const LoadedFilter dovecot =
        load_filter(FilterSpec{"dovecot", {}}, EXIM_BAN_FILTERS_DIR, DiskTextFileReader{});
    JailConfig config;
    config.name = "dovecot";
    config.policy.maxretry = 10;
    // Each run: a new pipeline whose jail the store's memory restores, as a
    // start of exim-band does.
    const auto run = [&](const std::vector<std::string>& lines) {
        std::vector<std::unique_ptr<JailRuntime>> jails;
        jails.push_back(std::make_unique<JailRuntime>(config, std::vector<LoadedFilter>{dovecot}));
        REQUIRE(jails.back()->restore(store));
        BanPipeline pipeline(std::move(jails), {{SourceRoute{0, 0}}}, store, firewall, timer,
                             PipelineClock{[] { return wall_ms("10:00:05"); },
                                           [] { return std::chrono::steady_clock::time_point{}; }});
        pipeline.attach(source);
        for (const auto& line : lines)
            pipeline.on_line(0, line, false);
        REQUIRE(pipeline.flush());
    };
    run({"Nov 23 10:00:01 mx1 dovecot: auth: passwd-file(bob,192.0.2.30,<HVCzzBNi3a7LAHEN>): "
         "Password mismatch",
         "Nov 23 10:00:02 mx1 dovecot: auth: passwd-file(bob,192.0.2.30,<HVCzzBNi3a7LAHEN>): "
         "Password mismatch"});
    run({"Nov 23 10:00:03 mx1 dovecot: auth: passwd-file(bob,192.0.2.30,<HVCzzBNi3a7LAHEN>): "
         "Password mismatch",
         "Nov 23 10:00:04 mx1 dovecot: imap-login: Disconnected (auth failed, 4 attempts in 9 "
         "secs): user=<bob>, method=PLAIN, rip=192.0.2.30, lip=192.0.2.1, "
         "session=<HVCzzBNi3a7LAHEN>"});
    std::size_t hits = 0;
    for (const auto& batch : store.batches())
        hits += batch.hits.size();
    CHECK(hits == 4);
    CHECK(store.open_sessions("dovecot").value().empty());
}
