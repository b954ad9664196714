#include "pipeline/batcher.hpp"

#include "core/duration.hpp"
#include "firewall/firewall.hpp"
#include "loop/wake_timer.hpp"
#include "pipeline/firewall_results.hpp"
#include "pipeline/jail_runtime.hpp"
#include "pipeline/pipeline_stats.hpp"
#include "tail/log_source.hpp"

#include <spdlog/spdlog.h>

namespace exim_ban {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds first_store_retry{100};
// While a ban waits in a stream of lines, the clock is read every this many
// lines: each read costs as much as a line (~0.15 ms of lines at 1.6M/s).
constexpr std::size_t ban_clock_lines = 256;

} // namespace

Batcher::Batcher(Store& store, Firewall& firewall, FirewallResults& results, WakeTimer& timer,
                 PipelineClock clock, PipelineLimits limits, PipelineStats& stats,
                 std::function<void()> bans_changed)
    : store_(store)
    , firewall_(firewall)
    , results_(results)
    , timer_(timer)
    , clock_(std::move(clock))
    , limits_(limits)
    , stats_(stats)
    , bans_changed_(std::move(bans_changed))
    , store_backoff_(first_store_retry, limits.max_backoff) {}

void Batcher::add_line() {
    if (batch_lines_++ == 0) {
        batch_opened_ = clock_.steady();
        timer_.wake_after(limits_.batch_delay);
    }
}

void Batcher::add_hit(StoredHit hit) {
    batch_.hits.push_back(std::move(hit));
}

void Batcher::add_success(StoredSuccess success) {
    batch_.successes.push_back(std::move(success));
}

void Batcher::add_mistake(StoredMistake mistake) {
    batch_.mistakes.push_back(std::move(mistake));
}

void Batcher::add_session(StoredSession session) {
    batch_.sessions.push_back(std::move(session));
}

void Batcher::add_ban(StoredBan ban, PendingBan pending) {
    batch_.bans.push_back(std::move(ban));
    if (pending_bans_.empty()) {
        first_ban_at_ = clock_.steady();
        timer_.wake_after(limits_.ban_delay);
    }
    pending_bans_.push_back(pending);
}

void Batcher::line_done() {
    const bool full = batch_lines_ >= limits_.batch_lines;
    // The clock is read only when a ban waits, and then every ban_clock_lines.
    const bool ban_due = !pending_bans_.empty() && batch_lines_ % ban_clock_lines == 0 &&
                         clock_.steady() - first_ban_at_ >= limits_.ban_delay;
    if (full || ban_due)
        flush();
}

void Batcher::on_caught_up() {
    // The log is quiet for now: a ban must not wait for more lines.
    if (!pending_bans_.empty() && !store_stalled_)
        flush();
}

void Batcher::on_wake() {
    const auto now = clock_.steady();
    if (store_stalled_) {
        if (now >= store_retry_at_)
            commit_batch();
        else
            timer_.wake_after(until(store_retry_at_, now));
    } else if (batch_lines_ > 0) {
        const auto due = pending_bans_.empty() ? batch_opened_ + limits_.batch_delay
                                               : first_ban_at_ + limits_.ban_delay;
        if (now >= due)
            flush();
        else
            timer_.wake_after(until(due, now));
    }
}

bool Batcher::flush() {
    if (batch_lines_ == 0 && batch_.empty())
        return true;
    return commit_batch();
}

bool Batcher::commit_batch() {
    if (source_ != nullptr)
        batch_.files = source_->positions();
    const auto started = clock_.steady();
    if (const auto failure = store_.commit(batch_)) {
        ++stats_.store_failures;
        if (!store_stalled_) {
            // The log is the buffer: stop reading until the store takes
            // this batch, rather than hold lines in memory.
            spdlog::error("store: cannot commit {} lines ({} hits, {} bans): {}; reading paused "
                          "until it can",
                          batch_lines_, batch_.hits.size(), batch_.bans.size(), failure->message);
            store_stalled_ = true;
            if (source_ != nullptr)
                source_->pause();
        }
        const milliseconds wait = store_backoff_.next();
        store_retry_at_ = clock_.steady() + wait;
        timer_.wake_after(wait);
        return false;
    }
    ++stats_.commits;
    if (store_stalled_) {
        spdlog::info("store: the batch is committed after {} failed attempts; reading resumed",
                     stats_.store_failures);
        store_stalled_ = false;
        store_backoff_.reset();
        if (source_ != nullptr)
            source_->resume();
    }
    std::vector<PendingBan> bans = std::move(pending_bans_);
    pending_bans_.clear();
    batch_ = Batch{};
    batch_lines_ = 0;
    if (!bans.empty())
        enforce(bans);
    stats_.batch_latency.note(clock_.steady() - started);
    if (!bans.empty() && bans_changed_)
        bans_changed_();
    return true;
}

std::optional<std::string> Batcher::commit_aside(Batch batch) {
    if (!flush())
        return std::string("the database does not take commits now (see the daemon's log); "
                           "try again later");
    if (source_ != nullptr)
        batch.files = source_->positions();
    if (const auto failure = store_.commit(batch)) {
        ++stats_.store_failures;
        return "database: " + failure->message;
    }
    ++stats_.commits;
    return std::nullopt;
}

void Batcher::enforce(const std::vector<PendingBan>& bans) {
    const std::int64_t now_ms = clock_.log_now_ms();
    std::size_t staged = 0;
    for (const auto& ban : bans) {
        const JailRuntime& jail = *ban.jail;
        const BanDecision& decision = ban.decision;
        const std::int64_t expires_ms = (decision.start + decision.duration.count()) * 1000;
        const std::string key = decision.key.to_string();
        const std::string& pattern =
            ban.pattern < jail.patterns().size() ? jail.patterns()[ban.pattern] : std::string();
        ++stats_.bans;
        if (expires_ms <= now_ms) {
            // Only a store replay can make one: its lines were judged in log time.
            ++stats_.past_bans;
            spdlog::info("{}: ban of {} recorded, already over: its lines are older than the ban",
                         jail.name, key);
            continue;
        }
        firewall_.add(jail.name, decision.key, milliseconds{expires_ms - now_ms});
        ++staged;
        spdlog::info("{}: ban {} for {} ({}, ban {} of this key, {} hits in {}, {} in all); "
                     "pattern {} ({})",
                     jail.name, key, format_duration(decision.duration),
                     ban_reason_name(decision.reason), decision.ban_number, decision.window_hits,
                     format_duration(jail.policy().findtime), decision.lifetime_hits,
                     ban.pattern + 1, pattern);
    }
    if (staged > 0)
        results_.note(firewall_.commit(), "ban");
}

} // namespace exim_ban
