// Lines in, committed hits and bans out (see README.md). The pipeline is
// the tailer's sink: it matches each line against the jails reading its log
// and judges their hits, and wires the parts that do the rest: the Batcher
// (the batch and its commit), FirewallHealth (reconciles) and BanAdmin
// (changes made outside the log). Everything else it reaches through
// interfaces, so that tests drive it line by line with a fake store,
// firewall and clock.
#pragma once

#include "core/log_reader.hpp"
#include "pipeline/ban_admin.hpp"
#include "pipeline/batcher.hpp"
#include "pipeline/firewall_health.hpp"
#include "pipeline/jail_runtime.hpp"
#include "pipeline/pipeline_clock.hpp"
#include "pipeline/pipeline_stats.hpp"
#include "tail/tail_sink.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace exim_ban {

class Firewall;
class LogSource;
class Store;
class WakeTimer;

// A jail's source reading a log: `jail` indexes the pipeline's jails,
// `source` that jail's sources.
struct SourceRoute {
    std::size_t jail = 0;
    std::size_t source = 0;
    bool operator==(const SourceRoute&) const = default;
};

class BanPipeline final : public TailSink {
  public:
    // `routes[log]`: the jails' sources reading log `log`.
    BanPipeline(std::vector<std::unique_ptr<JailRuntime>> jails,
                std::vector<std::vector<SourceRoute>> routes, Store& store, Firewall& firewall,
                WakeTimer& timer, PipelineClock clock, PipelineLimits limits = {});
    ~BanPipeline() override;

    // The log source whose positions each commit stores; set before the
    // first line arrives.
    void attach(LogSource& source) { batcher_.attach(source); }
    // Called after each commit that added, renewed or lifted bans (for the
    // DNSBL export), once the kernel has them.
    void on_bans_changed(std::function<void()> listener) { bans_changed_ = std::move(listener); }

    void on_line(std::size_t log, std::string_view line, bool cut) override;
    void on_caught_up() override;
    // The WakeTimer's callback: closes a batch that is due, retries a failed
    // commit, reconciles a firewall that failed.
    void on_wake();

    // Commits what has been read so far (at shutdown and before a reload).
    // Returns false when the store refused it; the batch is kept.
    bool flush() { return batcher_.flush(); }
    // A ban from the admin: committed with the positions read so far, then
    // in the kernel, known to the tracker; `jail` indexes jails(). Returns
    // what went wrong, or nullopt.
    std::optional<std::string> manual_ban(std::size_t jail, const BanKey& key,
                                          std::chrono::seconds duration) {
        return admin_.ban(jail, key, duration);
    }
    // See BanAdmin::unban.
    std::optional<std::string> manual_unban(const std::vector<BanKey>& keys,
                                            std::optional<std::size_t> jail) {
        return admin_.unban(keys, jail);
    }
    // See BanAdmin::forget_trust.
    std::optional<std::string> forget_trust(const IpAddress& address) {
        return admin_.forget_trust(address);
    }
    // bantime.knock_extend: see BanAdmin::renew_knocking.
    std::size_t renew_knocking(std::chrono::milliseconds horizon) {
        return admin_.renew_knocking(horizon);
    }

    // Asks for a reconcile of the firewall with the store's active bans at
    // the next wake-up (after a firewall failure, or at start-up).
    void request_reconcile() { health_.request_reconcile(); }
    // Reconciles now, unless one is planned anyway, and logs what it had to
    // change: the kernel's sets can lose bans with no call of ours failing
    // (`nft flush set`, a `flush ruleset` by nftables.service).
    void audit_firewall() { health_.audit(); }

    const PipelineStats& stats() const { return stats_; }
    // After a reload the new pipeline's counts go on from the old one's;
    // so do a jail's per-pattern counts while its patterns stay the same.
    void carry_over(const BanPipeline& earlier);
    const std::vector<std::unique_ptr<JailRuntime>>& jails() const { return jails_; }

  private:
    // The failed attempts a hit of `source` adds (see JailRuntime::attempts_of);
    // a change of its Dovecot session goes into the batch.
    std::uint32_t note_attempts(JailRuntime& jail, std::size_t source, const LineMatch& match,
                                std::int64_t time);
    void judge_hit(JailRuntime& jail, const LineMatch& match, std::int64_t time);
    // A line no failregex took may be a good login (a successregex): it
    // earns its key trust in the account.
    void note_success(JailRuntime& jail, std::size_t source, std::string_view message,
                      std::int64_t time);
    void announce_bans_changed();

    std::vector<std::unique_ptr<JailRuntime>> jails_;
    std::vector<std::vector<SourceRoute>> routes_;
    PipelineClock clock_;
    // routes_'s index: one reader for each log format its jails read.
    std::vector<std::vector<LogReader>> readers_;
    PipelineStats stats_;
    std::function<void()> bans_changed_;
    FirewallHealth health_;
    Batcher batcher_;
    BanAdmin admin_;
};

} // namespace exim_ban
