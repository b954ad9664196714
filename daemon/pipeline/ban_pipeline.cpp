#include "pipeline/ban_pipeline.hpp"

#include "core/duration.hpp"
#include "core/exim_line.hpp"
#include "firewall/firewall.hpp"
#include "pipeline/knock_watch.hpp"
#include "pipeline/log_source.hpp"
#include "pipeline/wake_timer.hpp"

#include <algorithm>
#include <set>
#include <spdlog/spdlog.h>

namespace exim_ban {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr milliseconds first_backoff{100};
// The longest wait between two reconciles while the firewall fails. While
// it waits, bans the store holds are not enforced, so it is short; each try
// is one read of the sets and one batch (milliseconds for thousands of
// bans), and a failing try logs nothing new, so trying every 2 s costs
// little even when the kernel refuses for hours.
constexpr milliseconds longest_reconcile_wait{2000};
// While a ban waits in a stream of lines, the clock is read every this many
// lines: each read costs as much as a line (~0.15 ms of lines at 1.6M/s).
constexpr std::size_t ban_clock_lines = 256;

milliseconds until(std::chrono::steady_clock::time_point when,
                   std::chrono::steady_clock::time_point now) {
    return std::max(milliseconds{0}, duration_cast<milliseconds>(when - now));
}

} // namespace

BanPipeline::BanPipeline(std::vector<std::unique_ptr<JailRuntime>> jails,
                         std::vector<std::vector<std::size_t>> routes, Store& store,
                         Firewall& firewall, WakeTimer& timer, PipelineClock clock,
                         PipelineLimits limits)
    : jails_(std::move(jails))
    , routes_(std::move(routes))
    , store_(store)
    , firewall_(firewall)
    , timer_(timer)
    , clock_(std::move(clock))
    , limits_(limits) {}

BanPipeline::~BanPipeline() = default;

void BanPipeline::on_line(std::size_t log, std::string_view line, bool cut) {
    ++stats_.lines;
    if (cut)
        ++stats_.cut_lines;
    if (batch_lines_++ == 0) {
        batch_opened_ = clock_.steady();
        timer_.wake_after(limits_.batch_delay);
    }
    // A cut line ends in client text, not Exim's (see count_line): no hit.
    const std::optional<EximLine> parsed = cut ? std::nullopt : split_exim_line(line);
    if (parsed) {
        if (log < routes_.size()) {
            for (const std::size_t jail : routes_[log]) {
                const LineMatch match = jails_[jail]->matcher.match(parsed->message);
                if (match.kind == LineMatch::Kind::hit) {
                    ++jails_[jail]->pattern_hits[match.pattern];
                    judge_hit(jail, match, parsed->time.wall_seconds);
                }
            }
        }
    } else if (!cut) {
        ++stats_.untimed_lines;
    }

    if (batch_lines_ >= limits_.batch_lines)
        flush();
    else if (!pending_bans_.empty() && batch_lines_ % ban_clock_lines == 0 &&
             clock_.steady() - first_ban_at_ >= limits_.ban_delay)
        flush();
}

void BanPipeline::judge_hit(std::size_t jail_index, const LineMatch& match, std::int64_t time) {
    JailRuntime& jail = *jails_[jail_index];
    const std::int64_t now = clock_.log_now_ms() / 1000;
    const JailJudge::Outcome outcome = jail.judge.hit(match.host, time, now);
    switch (outcome.verdict) {
    case JailJudge::Verdict::ignored:
        ++stats_.ignored_hosts;
        return;
    case JailJudge::Verdict::protected_:
        ++stats_.withheld_bans;
        spdlog::warn("{}: no ban of {}: it would cover an ignored address", jail.name,
                     outcome.key.to_string());
        break;
    case JailJudge::Verdict::banned: {
        const BanDecision& ban = *outcome.ban;
        batch_.bans.push_back({jail.name, ban.key, ban.start, ban.start + ban.duration.count(),
                               ban_reason_name(ban.reason), "log"});
        if (pending_bans_.empty()) {
            first_ban_at_ = clock_.steady();
            timer_.wake_after(limits_.ban_delay);
        }
        pending_bans_.push_back({jail_index, ban, match.pattern});
        break;
    }
    case JailJudge::Verdict::counted:
        break;
    }
    ++stats_.hits;
    batch_.hits.push_back(
        {jail.name, outcome.key, time, static_cast<std::uint32_t>(match.pattern)});
}

void BanPipeline::on_caught_up() {
    // The log is quiet for now: a ban must not wait for more lines.
    if (!pending_bans_.empty() && !store_stalled_)
        flush();
}

void BanPipeline::on_wake() {
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
    if (reconcile_wanted_) {
        if (now >= reconcile_at_)
            reconcile();
        else
            timer_.wake_after(until(reconcile_at_, now));
    }
}

bool BanPipeline::flush() {
    if (batch_lines_ == 0 && batch_.empty())
        return true;
    return commit_batch();
}

bool BanPipeline::commit_batch() {
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
        const milliseconds wait = next_backoff(store_backoff_, limits_.max_backoff);
        store_retry_at_ = clock_.steady() + wait;
        timer_.wake_after(wait);
        return false;
    }
    ++stats_.commits;
    if (store_stalled_) {
        spdlog::info("store: the batch is committed after {} failed attempts; reading resumed",
                     stats_.store_failures);
        store_stalled_ = false;
        store_backoff_ = milliseconds{0};
        if (source_ != nullptr)
            source_->resume();
    }
    std::vector<PendingBan> bans = std::move(pending_bans_);
    pending_bans_.clear();
    batch_ = Batch{};
    batch_lines_ = 0;
    if (!bans.empty())
        enforce(bans);
    note_latency(started);
    if (!bans.empty())
        announce_bans_changed();
    return true;
}

void BanPipeline::announce_bans_changed() {
    if (bans_changed_)
        bans_changed_();
}

void BanPipeline::note_latency(std::chrono::steady_clock::time_point started) {
    const double ms = std::chrono::duration<double, std::milli>(clock_.steady() - started).count();
    const auto bucket =
        std::lower_bound(batch_latency_buckets_ms.begin(), batch_latency_buckets_ms.end(), ms);
    ++stats_.batch_latency[static_cast<std::size_t>(bucket - batch_latency_buckets_ms.begin())];
    stats_.batch_latency_seconds += ms / 1000;
}

std::optional<std::string> BanPipeline::commit_aside(Batch batch) {
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

std::optional<std::string> BanPipeline::manual_ban(std::size_t jail_index, const BanKey& key,
                                                   std::chrono::seconds duration) {
    JailRuntime& jail = *jails_.at(jail_index);
    const std::int64_t now_ms = clock_.log_now_ms();
    const std::int64_t start = now_ms / 1000;
    Batch batch;
    batch.bans.push_back({jail.name, key, start, start + duration.count(), "manual", "manual"});
    if (auto error = commit_aside(std::move(batch)))
        return error;
    jail.judge.tracker().note_ban(key, start + duration.count());
    firewall_.add(jail.name, key, duration);
    note_firewall_result(firewall_.commit(), "ban");
    ++stats_.bans;
    ++stats_.manual_bans;
    spdlog::info("{}: ban {} for {} (manual)", jail.name, key.to_string(),
                 format_duration(duration));
    announce_bans_changed();
    return std::nullopt;
}

std::optional<std::string> BanPipeline::manual_unban(const std::vector<BanKey>& keys,
                                                     std::optional<std::size_t> jail) {
    const std::int64_t now = clock_.log_now_ms() / 1000;
    Batch batch;
    for (const auto& key : keys)
        batch.unbans.push_back({jail ? jails_.at(*jail)->name : std::string(), key, now});
    if (auto error = commit_aside(std::move(batch)))
        return error;
    for (std::size_t index = 0; index < jails_.size(); ++index) {
        if (jail && *jail != index)
            continue;
        for (const auto& key : keys) {
            jails_[index]->judge.tracker().lift_ban(key);
            firewall_.remove(jails_[index]->name, key);
        }
    }
    note_firewall_result(firewall_.commit(), "unban");
    stats_.unbans += keys.size();
    for (const auto& key : keys)
        spdlog::info("{}: unban {} (manual)", jail ? jails_[*jail]->name : "all jails",
                     key.to_string());
    announce_bans_changed();
    return std::nullopt;
}

std::size_t BanPipeline::renew_knocking(milliseconds horizon) {
    std::set<std::string, std::less<>> extending;
    for (const auto& jail : jails_)
        if (jail->judge.tracker().policy().knock_extend)
            extending.insert(jail->name);
    if (extending.empty())
        return 0;
    const ListResult held = firewall_.list();
    if (held.fault) {
        ++stats_.firewall_failures;
        spdlog::warn("firewall: cannot read the ban counters for bantime.knock_extend: {}",
                     held.fault->message);
        return 0;
    }
    const auto knocking = knocking_elements(held.elements, extending, horizon);
    if (knocking.empty())
        return 0;

    const std::int64_t now = clock_.log_now_ms() / 1000;
    struct Renewal {
        JailRuntime* jail;
        BanDecision decision;
        std::uint64_t packets;
    };
    std::vector<Renewal> renewals;
    Batch batch;
    for (const auto& element : knocking) {
        const auto jail = std::find_if(jails_.begin(), jails_.end(), [&](const auto& each) {
            return each->name == element.jail;
        });
        const BanDecision decision = (*jail)->judge.tracker().renewal(element.key, now);
        batch.bans.push_back({element.jail, element.key, now, now + decision.duration.count(),
                              ban_reason_name(decision.reason), "firewall"});
        renewals.push_back({jail->get(), decision, element.packets});
    }
    if (const auto error = commit_aside(std::move(batch))) {
        // The element ends in the kernel as planned; the next check, still
        // inside the horizon, tries again.
        spdlog::error("knock watch: renewals not stored: {}", *error);
        return 0;
    }
    for (const auto& [jail, decision, packets] : renewals) {
        jail->judge.tracker().note_ban(decision.key, now + decision.duration.count());
        firewall_.add(jail->name, decision.key, decision.duration);
        spdlog::info("{}: ban {} renewed for {} (knock, ban {} of this key): {} packet(s) blocked "
                     "while banned",
                     jail->name, decision.key.to_string(), format_duration(decision.duration),
                     decision.ban_number, packets);
    }
    note_firewall_result(firewall_.commit(), "knock renewal");
    stats_.bans += renewals.size();
    stats_.knock_renewals += renewals.size();
    announce_bans_changed();
    return renewals.size();
}

void BanPipeline::enforce(const std::vector<PendingBan>& bans) {
    const std::int64_t now_ms = clock_.log_now_ms();
    std::size_t staged = 0;
    for (const auto& ban : bans) {
        const JailRuntime& jail = *jails_[ban.jail];
        const BanDecision& decision = ban.decision;
        const std::int64_t expires_ms = (decision.start + decision.duration.count()) * 1000;
        const std::string key = decision.key.to_string();
        const std::string& pattern =
            ban.pattern < jail.patterns.size() ? jail.patterns[ban.pattern] : std::string();
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
                     format_duration(jail.judge.tracker().policy().findtime),
                     decision.lifetime_hits, ban.pattern + 1, pattern);
    }
    if (staged > 0)
        note_firewall_result(firewall_.commit(), "ban");
}

void BanPipeline::carry_over(const BanPipeline& earlier) {
    stats_ = earlier.stats_;
    for (const auto& jail : jails_) {
        const auto before = std::find_if(earlier.jails_.begin(), earlier.jails_.end(),
                                         [&](const auto& old) { return old->name == jail->name; });
        if (before != earlier.jails_.end() && (*before)->patterns == jail->patterns)
            jail->pattern_hits = (*before)->pattern_hits;
    }
}

void BanPipeline::request_reconcile() {
    reconcile_soon(milliseconds{0});
}

void BanPipeline::reconcile_soon(milliseconds wait) {
    const auto when = clock_.steady() + wait;
    // An earlier reconcile already planned is not put off: a stream of
    // failing bans must not keep the one that restores them waiting.
    if (reconcile_wanted_ && reconcile_at_ <= when)
        return;
    reconcile_wanted_ = true;
    reconcile_at_ = when;
    timer_.wake_after(wait);
}

void BanPipeline::audit_firewall() {
    if (reconcile_wanted_ || firewall_failing_)
        return;
    reconcile(true);
}

void BanPipeline::reconcile(bool audit) {
    reconcile_wanted_ = false;
    ++stats_.reconciles;
    const std::int64_t now_ms = clock_.log_now_ms();
    const auto stored = store_.active_bans(now_ms / 1000);
    if (!stored) {
        spdlog::error("store: cannot read the active bans to reconcile the firewall: {}",
                      stored.failure().message);
        ++stats_.store_failures;
        reconcile_soon(next_reconcile_wait());
        return;
    }
    std::vector<ActiveBan> active;
    for (const auto& ban : stored.value()) {
        const bool configured = std::any_of(
            jails_.begin(), jails_.end(), [&](const auto& jail) { return jail->name == ban.jail; });
        if (configured)
            active.push_back({ban.jail, ban.key, milliseconds{ban.expires * 1000 - now_ms}});
    }
    const CommitResult result = firewall_.reconcile(active);
    if (!result.ok() || result.repaired) {
        firewall_failed(result, "reconcile");
        // Only a failed reconcile waits longer for the next one.
        reconcile_soon(next_reconcile_wait());
        return;
    }
    if (audit && (result.added > 0 || result.removed > 0))
        spdlog::warn("firewall: the kernel's sets were changed outside exim-band: {} ban(s) put "
                     "back, {} element(s) removed; they hold the store's {} active ban(s) again",
                     result.added, result.removed, active.size());
    if (firewall_failing_)
        spdlog::info("firewall: reconciled after {} failure(s) in {} ms; the kernel holds the "
                     "store's {} active ban(s) again",
                     stats_.firewall_failures - failures_before_,
                     duration_cast<milliseconds>(clock_.steady() - failing_since_).count(),
                     active.size());
    firewall_failing_ = false;
    firewall_backoff_ = milliseconds{0};
}

void BanPipeline::note_firewall_result(const CommitResult& result, const char* what) {
    if (result.ok() && !result.repaired) {
        // The kernel takes changes again: what it refused before need not
        // wait for the planned reconcile.
        if (firewall_failing_)
            reconcile_soon(milliseconds{0});
        return;
    }
    firewall_failed(result, what);
    // The store has every ban: a reconcile puts back what the kernel lacks,
    // at once after a repair (the kernel works), else after the backoff
    // unless one is planned already.
    if (result.ok())
        reconcile_soon(milliseconds{0});
    else if (!reconcile_wanted_)
        reconcile_soon(next_reconcile_wait());
}

void BanPipeline::firewall_failed(const CommitResult& result, const char* what) {
    const std::uint64_t before = stats_.firewall_failures;
    stats_.firewall_failures +=
        result.failures.size() + (result.fault ? 1 : 0) + (result.repaired ? 1 : 0);
    // Once per failing spell, not per try: a kernel that refuses for an
    // hour would otherwise fill the log at every ban and every retry.
    const auto level = firewall_failing_ ? spdlog::level::debug : spdlog::level::err;
    // A repair is logged by the backend, which saw what had gone.
    for (const auto& failure : result.failures)
        spdlog::log(level, "firewall: {}: {}", what, failure.reason);
    if (result.fault)
        spdlog::log(level, "firewall: {}: {}", what, result.fault->message);
    if (!firewall_failing_) {
        spdlog::warn("firewall: bans are stored but not all in the kernel; reconciling with the "
                     "store, retried at most {} ms apart until the kernel takes them (further "
                     "failures are logged at debug level)",
                     longest_reconcile_wait.count());
        firewall_failing_ = true;
        failing_since_ = clock_.steady();
        failures_before_ = before;
    }
}

milliseconds BanPipeline::next_reconcile_wait() {
    return next_backoff(firewall_backoff_, longest_reconcile_wait);
}

milliseconds BanPipeline::next_backoff(milliseconds& backoff, milliseconds longest) {
    backoff = backoff == milliseconds{0} ? first_backoff : std::min(backoff * 2, longest);
    return backoff;
}

} // namespace exim_ban
