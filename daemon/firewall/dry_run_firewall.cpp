#include "firewall/dry_run_firewall.hpp"

#include "core/duration.hpp"
#include "firewall/firewall_setup_error.hpp"
#include "firewall/reconcile_plan.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace exim_ban {
namespace {

std::string timeout_text(std::chrono::milliseconds timeout) {
    return format_duration(std::chrono::ceil<std::chrono::seconds>(timeout));
}

} // namespace

DryRunFirewall::DryRunFirewall()
    : DryRunFirewall(spdlog::default_logger(), [] { return std::chrono::steady_clock::now(); }) {}

DryRunFirewall::DryRunFirewall(std::shared_ptr<spdlog::logger> logger, Clock now)
    : logger_(std::move(logger))
    , now_(std::move(now)) {}

void DryRunFirewall::setup(const std::vector<FirewallJail>& jails) {
    if (const auto problem = jails_problem(jails))
        throw FirewallSetupError(*problem);
    stage().set_jails(jails);
    table_ = true;
    logger_->info("dry run: would make table inet {} with chain {} (type filter hook input "
                  "priority filter - 10) holding only these rules:",
                  firewall_table_name, firewall_chain_name);
    for (const auto& jail : jails) {
        logger_->info("dry run:   sets {} and {} (flags timeout, counter)",
                      jail_set_name(jail.name, IpAddress::Family::v4),
                      jail_set_name(jail.name, IpAddress::Family::v6));
        for (const auto& rule : jail_rule_texts(jail))
            logger_->info("dry run:   {}", rule);
    }
    // Bans of jails that are gone go with their sets.
    std::erase_if(held_, [&](const auto& entry) { return !stage().find_jail(entry.first.first); });
}

void DryRunFirewall::expire() {
    const auto now = now_();
    std::erase_if(held_, [&](const auto& entry) { return entry.second.expires <= now; });
}

void DryRunFirewall::apply(const ElementChange& change, CommitResult& result) {
    const FirewallJail& jail = stage().jails()[change.jail];
    const std::string set = jail_set_name(jail.name, change.element.family);
    const Slot slot{jail.name, change.element};
    if (change.kind == ElementChangeKind::add) {
        const BanKey key = ban_key_of_element(change.element.data(), jail.ipv6_prefix).value();
        held_.insert_or_assign(slot, Held{key, change.timeout, now_() + change.timeout});
        logger_->info("dry run: would add {} to {} for {}", key.to_string(), set,
                      timeout_text(change.timeout));
        ++result.added;
    } else {
        held_.erase(slot);
        logger_->info("dry run: would remove {} from {}", change.key.to_string(), set);
        ++result.removed;
    }
}

CommitResult DryRunFirewall::commit() {
    expire();
    TakenChanges taken = stage().take();
    CommitResult result;
    result.failures = std::move(taken.refused);
    for (const auto& failure : result.failures)
        logger_->warn("dry run: would refuse {}: {}", failure.key.to_string(), failure.reason);
    if (!taken.changes.empty()) {
        table_ = true;
        logger_->info("dry run: would send one batch of {} changes", taken.changes.size());
    }
    for (const auto& change : taken.changes)
        apply(change, result);
    return result;
}

ListResult DryRunFirewall::list() {
    expire();
    ListResult result;
    result.table_present = table_;
    const auto now = now_();
    for (const auto& [slot, held] : held_)
        result.elements.push_back(FirewallElement{
            slot.first, held.key, held.timeout,
            std::chrono::duration_cast<std::chrono::milliseconds>(held.expires - now), 0, 0});
    std::sort(result.elements.begin(), result.elements.end(), [](const auto& a, const auto& b) {
        return std::tie(a.jail, a.key) < std::tie(b.jail, b.key);
    });
    return result;
}

CommitResult DryRunFirewall::reconcile(const std::vector<ActiveBan>& bans) {
    expire();
    CommitResult result;
    const std::vector<PlannedElement> wanted = wanted_elements(bans, stage(), result.failures);
    std::vector<PlannedElement> present;
    const auto now = now_();
    for (const auto& [slot, held] : held_) {
        if (const auto jail = stage().find_jail(slot.first))
            present.push_back(PlannedElement{
                *jail, slot.second,
                std::chrono::duration_cast<std::chrono::milliseconds>(held.expires - now)});
    }
    const ReconcilePlan plan = plan_reconcile(wanted, present, reconcile_tolerance);
    // The daemon audits now and then: one that changes nothing is no news.
    const bool changes = !plan.add.empty() || !plan.renew.empty() || !plan.remove.empty();
    logger_->log(changes ? spdlog::level::info : spdlog::level::debug,
                 "dry run: reconcile would add {}, renew {}, remove {} and keep {} elements",
                 plan.add.size(), plan.renew.size(), plan.remove.size(), plan.kept);
    table_ = true;
    for (const auto& write : reconcile_writes(plan, stage().jails()))
        apply(write.change, result);
    return result;
}

std::optional<FirewallFault> DryRunFirewall::remove_all() {
    logger_->info("dry run: would delete table inet {}", firewall_table_name);
    held_.clear();
    table_ = false;
    return std::nullopt;
}

} // namespace exim_ban
