// Keeps the kernel's sets in step with the store's active bans: after a
// commit the kernel refused (or a table it had to repair) it plans a
// reconcile, retried with backoff while the kernel keeps refusing, and
// brought forward as soon as a commit goes through again; an audit (every
// 30 s, from the band service) reconciles when nothing is known to be wrong,
// as the sets can lose bans with no call of ours failing. A failing spell is
// logged once, at its start and its end.
#pragma once

#include "core/backoff.hpp"
#include "pipeline/firewall_results.hpp"
#include "pipeline/pipeline_clock.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace exim_ban {

class Firewall;
class Store;
class WakeTimer;
struct PipelineStats;

class FirewallHealth final : public FirewallResults {
  public:
    // `jails`: the names of the configured jails, whose stored bans a
    // reconcile puts in the kernel. Counts go to `stats`.
    FirewallHealth(Store& store, Firewall& firewall, WakeTimer& timer, PipelineClock clock,
                   std::vector<std::string> jails, PipelineStats& stats);

    // After a commit: a failure (or a table repaired) plans a reconcile; a
    // success while failing brings the planned one forward.
    void note(const CommitResult& result, const char* what) override;
    // Asks for a reconcile at the next wake-up (at start-up, after a reload).
    void request_reconcile();
    // Reconciles now, unless one is planned anyway, and logs what it had to
    // change.
    void audit();
    // The WakeTimer's callback: reconciles when one is due.
    void on_wake();

  private:
    // `audit`: nothing was known to be wrong; a change made is news.
    void reconcile(bool audit = false);
    // Plans a reconcile `wait` from now, unless one is planned sooner.
    void reconcile_soon(std::chrono::milliseconds wait);
    // Counts the failure; logs it when the firewall was fine until now.
    void failed(const CommitResult& result, const char* what);

    Store& store_;
    Firewall& firewall_;
    WakeTimer& timer_;
    PipelineClock clock_;
    std::vector<std::string> jails_;
    PipelineStats& stats_;

    bool reconcile_wanted_ = false;
    Backoff reconcile_backoff_; // 100 ms, doubling up to 2 s (firewall_health.cpp)
    std::chrono::steady_clock::time_point reconcile_at_{};
    // From a firewall failure to the reconcile that makes the kernel hold
    // the store's bans again.
    bool failing_ = false;
    std::chrono::steady_clock::time_point failing_since_{};
    std::uint64_t failures_before_ = 0;
};

} // namespace exim_ban
