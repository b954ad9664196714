#include "pipeline/firewall_health.hpp"

#include "firewall/firewall.hpp"
#include "loop/wake_timer.hpp"
#include "pipeline/pipeline_stats.hpp"
#include "store/store.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace exim_ban {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

constexpr milliseconds first_reconcile_wait{100};
// The longest wait between two reconciles while the firewall fails. While
// it waits, bans the store holds are not enforced, so it is short; each try
// is one read of the sets and one batch (milliseconds for thousands of
// bans), and a failing try logs nothing new, so trying every 2 s costs
// little even when the kernel refuses for hours.
constexpr milliseconds longest_reconcile_wait{2000};

} // namespace

FirewallHealth::FirewallHealth(Store& store, Firewall& firewall, WakeTimer& timer,
                               PipelineClock clock, std::vector<std::string> jails,
                               PipelineStats& stats)
    : store_(store)
    , firewall_(firewall)
    , timer_(timer)
    , clock_(std::move(clock))
    , jails_(std::move(jails))
    , stats_(stats)
    , reconcile_backoff_(first_reconcile_wait, longest_reconcile_wait) {}

void FirewallHealth::on_wake() {
    if (!reconcile_wanted_)
        return;
    const auto now = clock_.steady();
    if (now >= reconcile_at_)
        reconcile();
    else
        timer_.wake_after(until(reconcile_at_, now));
}

void FirewallHealth::request_reconcile() {
    reconcile_soon(milliseconds{0});
}

void FirewallHealth::reconcile_soon(milliseconds wait) {
    const auto when = clock_.steady() + wait;
    // An earlier reconcile already planned is not put off: a stream of
    // failing bans must not keep the one that restores them waiting.
    if (reconcile_wanted_ && reconcile_at_ <= when)
        return;
    reconcile_wanted_ = true;
    reconcile_at_ = when;
    timer_.wake_after(wait);
}

void FirewallHealth::audit() {
    if (reconcile_wanted_ || failing_)
        return;
    reconcile(true);
}

void FirewallHealth::reconcile(bool audit) {
    reconcile_wanted_ = false;
    ++stats_.reconciles;
    const std::int64_t now_ms = clock_.log_now_ms();
    const auto stored = store_.active_bans(now_ms / 1000);
    if (!stored) {
        spdlog::error("store: cannot read the active bans to reconcile the firewall: {}",
                      stored.failure().message);
        ++stats_.store_failures;
        reconcile_soon(reconcile_backoff_.next());
        return;
    }
    std::vector<ActiveBan> active;
    for (const auto& ban : stored.value()) {
        if (std::find(jails_.begin(), jails_.end(), ban.jail) != jails_.end())
            active.push_back({ban.jail, ban.key, milliseconds{ban.expires * 1000 - now_ms}});
    }
    const CommitResult result = firewall_.reconcile(active);
    if (!result.ok() || result.repaired) {
        failed(result, "reconcile");
        // Only a failed reconcile waits longer for the next one.
        reconcile_soon(reconcile_backoff_.next());
        return;
    }
    if (audit && (result.added > 0 || result.removed > 0))
        spdlog::warn("firewall: the kernel's sets were changed outside exim-band: {} ban(s) put "
                     "back, {} element(s) removed; they hold the store's {} active ban(s) again",
                     result.added, result.removed, active.size());
    if (failing_)
        spdlog::info("firewall: reconciled after {} failure(s) in {} ms; the kernel holds the "
                     "store's {} active ban(s) again",
                     stats_.firewall_failures - failures_before_,
                     duration_cast<milliseconds>(clock_.steady() - failing_since_).count(),
                     active.size());
    failing_ = false;
    reconcile_backoff_.reset();
}

void FirewallHealth::note(const CommitResult& result, const char* what) {
    if (result.ok() && !result.repaired) {
        // The kernel takes changes again: what it refused before need not
        // wait for the planned reconcile.
        if (failing_)
            reconcile_soon(milliseconds{0});
        return;
    }
    failed(result, what);
    // The store has every ban: a reconcile puts back what the kernel lacks,
    // at once after a repair (the kernel works), else after the backoff
    // unless one is planned already.
    if (result.ok())
        reconcile_soon(milliseconds{0});
    else if (!reconcile_wanted_)
        reconcile_soon(reconcile_backoff_.next());
}

void FirewallHealth::failed(const CommitResult& result, const char* what) {
    const std::uint64_t before = stats_.firewall_failures;
    stats_.firewall_failures +=
        result.failures.size() + (result.fault ? 1 : 0) + (result.repaired ? 1 : 0);
    // Once per failing spell, not per try: a kernel that refuses for an
    // hour would otherwise fill the log at every ban and every retry.
    const auto level = failing_ ? spdlog::level::debug : spdlog::level::err;
    // A repair is logged by the backend, which saw what had gone.
    for (const auto& failure : result.failures)
        spdlog::log(level, "firewall: {}: {}", what, failure.reason);
    if (result.fault)
        spdlog::log(level, "firewall: {}: {}", what, result.fault->message);
    if (!failing_) {
        spdlog::warn("firewall: bans are stored but not all in the kernel; reconciling with the "
                     "store, retried at most {} ms apart until the kernel takes them (further "
                     "failures are logged at debug level)",
                     longest_reconcile_wait.count());
        failing_ = true;
        failing_since_ = clock_.steady();
        failures_before_ = before;
    }
}

} // namespace exim_ban
