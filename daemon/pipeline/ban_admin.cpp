#include "pipeline/ban_admin.hpp"

#include "core/duration.hpp"
#include "firewall/firewall.hpp"
#include "pipeline/aside_committer.hpp"
#include "pipeline/firewall_results.hpp"
#include "pipeline/jail_runtime.hpp"
#include "pipeline/knock_watch.hpp"
#include "pipeline/pipeline_stats.hpp"

#include <algorithm>
#include <set>
#include <spdlog/spdlog.h>

namespace exim_ban {

BanAdmin::BanAdmin(const std::vector<std::unique_ptr<JailRuntime>>& jails,
                   AsideCommitter& committer, Firewall& firewall, FirewallResults& results,
                   PipelineClock clock, PipelineStats& stats, std::function<void()> bans_changed)
    : jails_(jails)
    , committer_(committer)
    , firewall_(firewall)
    , results_(results)
    , clock_(std::move(clock))
    , stats_(stats)
    , bans_changed_(std::move(bans_changed)) {}

std::optional<std::string> BanAdmin::ban(std::size_t jail_index, const BanKey& key,
                                         std::chrono::seconds duration) {
    JailRuntime& jail = *jails_.at(jail_index);
    const std::int64_t start = clock_.log_now_ms() / 1000;
    Batch batch;
    batch.bans.push_back({jail.name, key, start, start + duration.count(), "manual", "manual"});
    if (auto error = committer_.commit_aside(std::move(batch)))
        return error;
    jail.note_ban(key, start + duration.count());
    firewall_.add(jail.name, key, duration);
    results_.note(firewall_.commit(), "ban");
    ++stats_.bans;
    ++stats_.manual_bans;
    spdlog::info("{}: ban {} for {} (manual)", jail.name, key.to_string(),
                 format_duration(duration));
    bans_changed_();
    return std::nullopt;
}

std::optional<std::string> BanAdmin::unban(const std::vector<BanKey>& keys,
                                           std::optional<std::size_t> jail) {
    const std::int64_t now = clock_.log_now_ms() / 1000;
    Batch batch;
    for (const auto& key : keys)
        batch.unbans.push_back({jail ? jails_.at(*jail)->name : std::string(), key, now});
    if (auto error = committer_.commit_aside(std::move(batch)))
        return error;
    for (std::size_t index = 0; index < jails_.size(); ++index) {
        if (jail && *jail != index)
            continue;
        for (const auto& key : keys) {
            jails_[index]->lift_ban(key);
            firewall_.remove(jails_[index]->name, key);
        }
    }
    results_.note(firewall_.commit(), "unban");
    stats_.unbans += keys.size();
    for (const auto& key : keys)
        spdlog::info("{}: unban {} (manual)", jail ? jails_[*jail]->name : "all jails",
                     key.to_string());
    bans_changed_();
    return std::nullopt;
}

std::optional<std::string> BanAdmin::forget_trust(const IpAddress& address) {
    Batch batch;
    for (const auto& jail : jails_)
        batch.forgotten.push_back({jail->name, jail->key_of(address)});
    if (auto error = committer_.commit_aside(std::move(batch)))
        return error;
    for (const auto& jail : jails_) {
        if (const std::size_t accounts = jail->forget_trust(jail->key_of(address)))
            spdlog::info("{}: trust of {} forgotten ({} account(s), manual)", jail->name,
                         jail->key_of(address).to_string(), accounts);
    }
    return std::nullopt;
}

std::size_t BanAdmin::renew_knocking(std::chrono::milliseconds horizon) {
    std::set<std::string, std::less<>> extending;
    for (const auto& jail : jails_)
        if (jail->policy().knock_extend)
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
        const BanDecision decision = (*jail)->renewal(element.key, now);
        batch.bans.push_back({element.jail, element.key, now, now + decision.duration.count(),
                              ban_reason_name(decision.reason), "firewall"});
        renewals.push_back({jail->get(), decision, element.packets});
    }
    if (const auto error = committer_.commit_aside(std::move(batch))) {
        // The element ends in the kernel as planned; the next check, still
        // inside the horizon, tries again.
        spdlog::error("knock watch: renewals not stored: {}", *error);
        return 0;
    }
    for (const auto& [jail, decision, packets] : renewals) {
        jail->note_ban(decision.key, now + decision.duration.count());
        firewall_.add(jail->name, decision.key, decision.duration);
        spdlog::info("{}: ban {} renewed for {} (knock, ban {} of this key): {} packet(s) blocked "
                     "while banned",
                     jail->name, decision.key.to_string(), format_duration(decision.duration),
                     decision.ban_number, packets);
    }
    results_.note(firewall_.commit(), "knock renewal");
    stats_.bans += renewals.size();
    stats_.knock_renewals += renewals.size();
    bans_changed_();
    return renewals.size();
}

} // namespace exim_ban
