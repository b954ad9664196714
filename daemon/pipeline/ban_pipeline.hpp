// Lines in, committed hits and bans out (see README.md). The pipeline is
// the tailer's sink; everything else it reaches through interfaces, so that
// tests drive it line by line with a fake store, firewall and clock.
#pragma once

#include "pipeline/jail_runtime.hpp"
#include "store/store.hpp"
#include "tail/tailer.hpp"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace exim_ban {

class Firewall;
struct CommitResult;
class LogSource;
class WakeTimer;

struct PipelineLimits {
    std::size_t batch_lines = 20'000;
    std::chrono::milliseconds batch_delay{100};
    // A batch holding a ban closes at the latest this long after the ban,
    // even while the log keeps coming.
    std::chrono::milliseconds ban_delay{2};
    // The longest wait between tries of a commit the store refused (from
    // 100 ms, doubling). A try costs one rollback; the wait holds bans
    // back: a lock or a full disk gone is caught up within this.
    std::chrono::milliseconds max_backoff{5'000};
};

struct PipelineClock {
    // Now in log time: local wall-clock milliseconds counted as if UTC, the
    // scale of Exim's timestamps (LogTime::wall_seconds).
    std::function<std::int64_t()> log_now_ms;
    std::function<std::chrono::steady_clock::time_point()> steady;
};

// Upper bounds (ms) of the batch latency histogram's buckets: the time from
// a batch's commit to its bans in the kernel; the last bucket is +Inf.
inline constexpr std::array<double, 9> batch_latency_buckets_ms{0.5, 1, 2, 5, 10, 25, 50, 100, 250};

struct PipelineStats {
    std::uint64_t lines = 0;
    std::uint64_t cut_lines = 0;
    std::uint64_t untimed_lines = 0;
    std::uint64_t hits = 0;          // counted against a key
    std::uint64_t ignored_hosts = 0; // hits of ignored hosts, not counted
    std::uint64_t bans = 0;
    std::uint64_t past_bans = 0;     // made from old lines: stored, never enforced
    std::uint64_t withheld_bans = 0; // would have covered an ignored address
    std::uint64_t commits = 0;
    std::uint64_t store_failures = 0;
    std::uint64_t firewall_failures = 0; // elements refused or faults
    std::uint64_t reconciles = 0;
    std::uint64_t manual_bans = 0;
    std::uint64_t unbans = 0;
    std::uint64_t knock_renewals = 0; // bans renewed by bantime.knock_extend
    // Batches by commit latency: counts per bucket of batch_latency_buckets_ms
    // (+ one for longer), and their sum in seconds.
    std::array<std::uint64_t, batch_latency_buckets_ms.size() + 1> batch_latency{};
    double batch_latency_seconds = 0;
};

class BanPipeline final : public TailSink {
  public:
    // `routes[log]`: indexes into `jails` of the jails reading log `log`.
    BanPipeline(std::vector<std::unique_ptr<JailRuntime>> jails,
                std::vector<std::vector<std::size_t>> routes, Store& store, Firewall& firewall,
                WakeTimer& timer, PipelineClock clock, PipelineLimits limits = {});
    ~BanPipeline() override;

    // The log source whose positions each commit stores; set before the
    // first line arrives.
    void attach(LogSource& source) { source_ = &source; }
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
    bool flush();
    // A ban from the admin: committed with the positions read so far, then
    // in the kernel, known to the tracker; `jail` indexes jails(). Returns
    // what went wrong, or nullopt.
    std::optional<std::string> manual_ban(std::size_t jail, const BanKey& key,
                                          std::chrono::seconds duration);
    // Lifts the bans of `keys` in one jail, or in all with nullopt: stored as
    // unbans (a restart does not undo them), removed from the kernel,
    // forgotten by the trackers. Returns what went wrong, or nullopt.
    std::optional<std::string> manual_unban(const std::vector<BanKey>& keys,
                                            std::optional<std::size_t> jail);

    // bantime.knock_extend: the bans of extending jails that end within
    // `horizon` and blocked packets are committed again with each key's next
    // escalated time, then renewed in the kernel. Returns how many.
    std::size_t renew_knocking(std::chrono::milliseconds horizon);

    // Asks for a reconcile of the firewall with the store's active bans at
    // the next wake-up (after a firewall failure, or at start-up).
    void request_reconcile();
    // Reconciles now, unless one is planned anyway, and logs what it had to
    // change: the kernel's sets can lose bans with no call of ours failing
    // (`nft flush set`, a `flush ruleset` by nftables.service).
    void audit_firewall();

    const PipelineStats& stats() const { return stats_; }
    // After a reload the new pipeline's counts go on from the old one's;
    // so do a jail's per-pattern counts while its patterns stay the same.
    void carry_over(const BanPipeline& earlier);
    const std::vector<std::unique_ptr<JailRuntime>>& jails() const { return jails_; }

  private:
    struct PendingBan {
        std::size_t jail;
        BanDecision decision;
        std::size_t pattern;
    };
    void judge_hit(std::size_t jail_index, const LineMatch& match, std::int64_t time);
    bool commit_batch();
    // Commits a batch of changes made outside the log (the admin's, the
    // knock watch's) alone, after the open batch.
    std::optional<std::string> commit_aside(Batch batch);
    void note_latency(std::chrono::steady_clock::time_point started);
    void announce_bans_changed();
    void enforce(const std::vector<PendingBan>& bans);
    // `audit`: nothing was known to be wrong; a change made is news.
    void reconcile(bool audit = false);
    // Plans a reconcile `wait` from now, unless one is planned sooner.
    void reconcile_soon(std::chrono::milliseconds wait);
    // After a commit: a failure (or a table repaired) plans a reconcile.
    void note_firewall_result(const CommitResult& result, const char* what);
    // Counts the failure; logs it when the firewall was fine until now.
    void firewall_failed(const CommitResult& result, const char* what);
    // 100 ms, doubling up to longest_reconcile_wait (ban_pipeline.cpp).
    std::chrono::milliseconds next_reconcile_wait();
    // From 100 ms, doubling up to `longest`; `backoff` keeps the step.
    static std::chrono::milliseconds next_backoff(std::chrono::milliseconds& backoff,
                                                  std::chrono::milliseconds longest);

    std::vector<std::unique_ptr<JailRuntime>> jails_;
    std::vector<std::vector<std::size_t>> routes_;
    Store& store_;
    Firewall& firewall_;
    WakeTimer& timer_;
    PipelineClock clock_;
    PipelineLimits limits_;
    LogSource* source_ = nullptr;
    std::function<void()> bans_changed_;

    Batch batch_;
    std::vector<PendingBan> pending_bans_;
    std::size_t batch_lines_ = 0;
    std::chrono::steady_clock::time_point batch_opened_{};
    std::chrono::steady_clock::time_point first_ban_at_{};

    bool store_stalled_ = false;
    std::chrono::milliseconds store_backoff_{0};
    std::chrono::steady_clock::time_point store_retry_at_{};
    bool reconcile_wanted_ = false;
    std::chrono::milliseconds firewall_backoff_{0};
    std::chrono::steady_clock::time_point reconcile_at_{};
    // From a firewall failure to the reconcile that makes the kernel hold
    // the store's bans again.
    bool firewall_failing_ = false;
    std::chrono::steady_clock::time_point failing_since_{};
    std::uint64_t failures_before_ = 0;

    PipelineStats stats_;
};

} // namespace exim_ban
