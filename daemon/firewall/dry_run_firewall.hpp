// The dry-run backend: logs what the nftables backend would do and keeps
// in memory what the kernel would then hold (expiring it by the clock it is
// given), so that list() and reconcile() answer as they would. Used where
// exim-ban may not touch the firewall (no CAP_NET_ADMIN, trying a config).
#pragma once

#include "firewall/firewall.hpp"
#include "firewall/firewall_jail.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <utility>

namespace spdlog {
class logger;
}

namespace exim_ban {

class DryRunFirewall final : public Firewall {
  public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    // Logs to spdlog's default logger; times by the steady clock.
    DryRunFirewall();
    DryRunFirewall(std::shared_ptr<spdlog::logger> logger, Clock now);

    // Throws FirewallSetupError only for jails nftables could not name.
    void setup(const std::vector<FirewallJail>& jails) override;
    CommitResult commit() override;
    ListResult list() override;
    CommitResult reconcile(const std::vector<ActiveBan>& bans) override;
    std::optional<FirewallFault> remove_all() override;

  private:
    struct Held {
        BanKey key;
        std::chrono::milliseconds timeout;
        std::chrono::steady_clock::time_point expires;
    };
    using Slot = std::pair<std::string, ElementKey>; // jail name, element
    void expire();
    void apply(const ElementChange& change, CommitResult& result);

    std::shared_ptr<spdlog::logger> logger_;
    Clock now_;
    bool table_ = false;
    std::map<Slot, Held> held_;
};

} // namespace exim_ban
