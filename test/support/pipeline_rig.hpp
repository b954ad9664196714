// A BanPipeline on fakes, for the tests of the pipeline's parts driven the
// way the daemon drives them: one jail "exim" on one log (maxretry 3 in 10
// minutes, 1 hour bans, 203.0.113.0/24 ignored), lines handed on as the
// tailer does, one clock moving log time, steady time and the firewall's
// timeouts together.
#pragma once

#include "core/exim_line.hpp"
#include "filter/filter_loader.hpp"
#include "filter/text_file_reader.hpp"
#include "pipeline/ban_pipeline.hpp"
#include "support/fake_firewall.hpp"
#include "support/fake_log_source.hpp"
#include "support/fake_store.hpp"
#include "support/fake_wake_timer.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace exim_ban::testing {

inline std::string failure_line(const std::string& time, const std::string& address) {
    return "2026-11-23 " + time + " login authenticator failed for (ylmf-pc) [" + address +
           "]: 535 Incorrect authentication data (set_id=admin)";
}

// The log time of "2026-11-23 `time`" in milliseconds.
inline std::int64_t wall_ms(const std::string& time) {
    return split_exim_line("2026-11-23 " + time + " x")->time.wall_seconds * 1000;
}

inline BanKey key(const char* address) {
    return ban_key(*IpAddress::parse(address), 64);
}

// The jail "exim" of the rig, `adjust`ed; `name` for a second jail alike.
inline std::unique_ptr<JailRuntime> exim_jail(const std::function<void(JailPolicy&)>& adjust = {},
                                              const std::string& name = "exim") {
    JailConfig config;
    config.name = name;
    config.policy.maxretry = 3;
    config.policy.increment = false;
    if (adjust)
        adjust(config.policy);
    config.ignore.add(*IpPrefix::parse("203.0.113.0/24"));
    const LoadedFilter filter =
        load_filter(FilterSpec{"exim", {}}, EXIM_BAN_FILTERS_DIR, DiskTextFileReader{});
    return std::make_unique<JailRuntime>(config, std::vector<LoadedFilter>{filter});
}

struct PipelineRig {
    explicit PipelineRig(PipelineLimits limits = {.batch_lines = 1000,
                                                  .batch_delay = std::chrono::milliseconds{100},
                                                  .ban_delay = std::chrono::milliseconds{2},
                                                  .max_backoff = std::chrono::milliseconds{30'000}},
                         FakeStore initial = {},
                         const std::function<void(JailPolicy&)>& adjust = {})
        : store(std::move(initial)) {
        firewall.setup({FirewallJail{"exim", {25, 465, 587}, Verdict::drop, 64}});
        std::vector<std::unique_ptr<JailRuntime>> jails;
        jails.push_back(exim_jail(adjust));
        restored = jails.front()->restore(store).value();
        pipeline = std::make_unique<BanPipeline>(
            std::move(jails), std::vector<std::vector<SourceRoute>>{{SourceRoute{0, 0}}}, store,
            firewall, timer,
            PipelineClock{[this] { return log_now_ms; }, [this] { return steady; }}, limits);
        pipeline->attach(source);
    }
    // Hands a line on as the tailer does: the position moves past it first.
    void line(const std::string& text) {
        source.position.offset += text.size() + 1;
        pipeline->on_line(0, text, false);
    }
    // Three failures of `address` a second apart from 10:00:00, caught up:
    // a ban.
    void ban_by_log(const std::string& address) {
        for (const char* time : {"10:00:00", "10:00:01", "10:00:02"})
            line(failure_line(time, address));
        pipeline->on_caught_up();
    }
    // A burst of maxretry failures of `address` whose ban the kernel refuses.
    void refused_ban(const std::string& address, FirewallFault fault) {
        firewall.break_next(std::move(fault));
        ban_by_log(address);
    }
    void advance(std::chrono::milliseconds time) {
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

} // namespace exim_ban::testing
