// The open batch of lines, hits and bans, and its way to the store: it
// closes after `batch_lines` lines, `batch_delay` after it opened, or as
// soon as the log is caught up or `ban_delay` passed when it holds a ban; it
// commits with the source's positions, and only then do its bans go to the
// firewall, whose result it hands to a FirewallResults. A commit the store
// refuses pauses the source (the log itself is the buffer) and is retried
// with backoff until it goes through.
#pragma once

#include "core/backoff.hpp"
#include "core/hit_tracker.hpp"
#include "pipeline/aside_committer.hpp"
#include "pipeline/pipeline_clock.hpp"
#include "store/store.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace exim_ban {

class Firewall;
class FirewallResults;
class JailRuntime;
class LogSource;
class WakeTimer;
struct PipelineStats;

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

// A ban of the open batch, for the firewall and the log once committed.
struct PendingBan {
    const JailRuntime* jail;
    BanDecision decision;
    std::size_t pattern; // the failregex of the hit that completed it
};

class Batcher final : public AsideCommitter {
  public:
    // `bans_changed` is called after each commit that put bans in the
    // kernel. Counts go to `stats`.
    Batcher(Store& store, Firewall& firewall, FirewallResults& results, WakeTimer& timer,
            PipelineClock clock, PipelineLimits limits, PipelineStats& stats,
            std::function<void()> bans_changed);

    // The source whose positions each commit stores; set before the first
    // line arrives.
    void attach(LogSource& source) { source_ = &source; }

    // A line joins the batch (opening one when none is): call before its
    // hits, then line_done() after them.
    void add_line();
    void add_hit(StoredHit hit);
    void add_success(StoredSuccess success);
    void add_mistake(StoredMistake mistake);
    void add_session(StoredSession session);
    void add_ban(StoredBan ban, PendingBan pending);
    // Closes the batch when it is full, or when its first ban has waited
    // ban_delay (the clock is read only every few hundred lines).
    void line_done();

    // The log is caught up: a batch holding a ban closes now.
    void on_caught_up();
    // The WakeTimer's callback: retries a refused commit, or closes a batch
    // that is due.
    void on_wake();

    // Commits what has been read so far. Returns false when the store
    // refused it; the batch is kept and retried.
    bool flush();
    // Commits changes made outside the log (the admin's, the knock watch's)
    // alone, after the open batch, with the positions read so far. Returns
    // what went wrong, or nullopt.
    std::optional<std::string> commit_aside(Batch batch) override;

  private:
    bool commit_batch();
    void enforce(const std::vector<PendingBan>& bans);

    Store& store_;
    Firewall& firewall_;
    FirewallResults& results_;
    WakeTimer& timer_;
    PipelineClock clock_;
    PipelineLimits limits_;
    PipelineStats& stats_;
    std::function<void()> bans_changed_;
    LogSource* source_ = nullptr;

    Batch batch_;
    std::vector<PendingBan> pending_bans_;
    std::size_t batch_lines_ = 0;
    std::chrono::steady_clock::time_point batch_opened_{};
    std::chrono::steady_clock::time_point first_ban_at_{};

    bool store_stalled_ = false;
    Backoff store_backoff_; // 100 ms, doubling up to max_backoff
    std::chrono::steady_clock::time_point store_retry_at_{};
};

} // namespace exim_ban
