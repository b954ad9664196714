// Bans changed outside the log: the admin's bans and unbans (exim-banctl)
// and the knock watch's renewals (bantime.knock_extend). Each change is
// committed alone, after the open batch, then made in the kernel and told
// to the jail's tracker; a change the store refuses changes nothing.
#pragma once

#include "core/ban_key.hpp"
#include "pipeline/pipeline_clock.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace exim_ban {

class AsideCommitter;
class Firewall;
class FirewallResults;
class JailRuntime;
struct PipelineStats;

class BanAdmin {
  public:
    // `jails` stay owned by the caller. `bans_changed` is called after each
    // change, once the kernel has it. Counts go to `stats`.
    BanAdmin(const std::vector<std::unique_ptr<JailRuntime>>& jails, AsideCommitter& committer,
             Firewall& firewall, FirewallResults& results, PipelineClock clock,
             PipelineStats& stats, std::function<void()> bans_changed);

    // A ban of `key` for `duration` in jail `jail` (an index into jails).
    // Returns what went wrong, or nullopt.
    std::optional<std::string> ban(std::size_t jail, const BanKey& key,
                                   std::chrono::seconds duration);
    // Lifts the bans of `keys` in one jail, or in all with nullopt: stored as
    // unbans (a restart does not undo them), removed from the kernel,
    // forgotten by the trackers. Returns what went wrong, or nullopt.
    std::optional<std::string> unban(const std::vector<BanKey>& keys,
                                     std::optional<std::size_t> jail);
    // The admin's `trust forget`: the trust of `address`'s key (by each
    // jail's ipv6_prefix) in every account and jail, stored first, then
    // dropped from memory. Returns what went wrong, or nullopt.
    std::optional<std::string> forget_trust(const IpAddress& address);
    // The bans of extending jails that end within `horizon` and blocked
    // packets are committed again with each key's next escalated time, then
    // renewed in the kernel. Returns how many.
    std::size_t renew_knocking(std::chrono::milliseconds horizon);

  private:
    const std::vector<std::unique_ptr<JailRuntime>>& jails_;
    AsideCommitter& committer_;
    Firewall& firewall_;
    FirewallResults& results_;
    PipelineClock clock_;
    PipelineStats& stats_;
    std::function<void()> bans_changed_;
};

} // namespace exim_ban
