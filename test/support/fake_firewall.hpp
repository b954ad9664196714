// A Firewall in memory for tests of the code that drives one: it holds what
// the kernel would, expires it by a clock the test moves (advance()),
// counts setups and commits, and refuses or breaks what the test says.
// Staging and reconcile use the backends' own pure helpers, so a change the
// real backends refuse is refused here too, for the same reason.
#pragma once

#include "firewall/firewall.hpp"
#include "firewall/firewall_jail.hpp"
#include "firewall/firewall_setup_error.hpp"
#include "firewall/reconcile_plan.hpp"
#include "firewall/staged_changes.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace exim_ban::testing {

class FakeFirewall final : public Firewall {
  public:
    // --- what the test controls ---
    void advance(std::chrono::milliseconds time) { now_ += time; }
    // Changes of this element are refused with `error` until further notice.
    void refuse(const std::string& jail, const BanKey& key, int error) {
        refused_[{jail, key.to_string()}] = error;
    }
    // The next commit() or reconcile() applies nothing and returns this.
    void break_next(FirewallFault fault) { broken_ = std::move(fault); }
    // The next list() returns this and nothing else.
    void break_next_list(FirewallFault fault) { list_broken_ = std::move(fault); }
    // The next setup() throws this.
    void fail_next_setup(FirewallSetupError error) { setup_error_ = std::move(error); }
    // Packets and bytes an element has blocked (the knocking of a banned host).
    void knock(const std::string& jail, const BanKey& key, std::uint64_t packets,
               std::uint64_t bytes) {
        for (auto& [slot, held] : held_) {
            if (slot.first == jail && held.key == key) {
                held.packets += packets;
                held.bytes += bytes;
            }
        }
    }

    // --- what the test reads ---
    std::size_t setups() const { return setups_; }
    std::size_t commits() const { return commits_; }
    std::size_t reconciles() const { return reconciles_; }
    const std::vector<FirewallJail>& jails() const { return stage().jails(); }
    std::size_t staged() const { return stage().size(); }
    // The time left of a held ban, or nullopt.
    std::optional<std::chrono::milliseconds> held(const std::string& jail,
                                                  const BanKey& key) const {
        for (const auto& [slot, held] : held_) {
            if (slot.first == jail && held.key == key && held.expires > now_)
                return held.expires - now_;
        }
        return std::nullopt;
    }

    // --- Firewall ---
    void setup(const std::vector<FirewallJail>& jails) override {
        if (setup_error_)
            throw std::exchange(setup_error_, std::nullopt).value();
        if (const auto problem = jails_problem(jails))
            throw FirewallSetupError(*problem);
        ++setups_;
        stage().set_jails(jails);
        table_ = true;
        std::erase_if(held_,
                      [&](const auto& entry) { return !stage().find_jail(entry.first.first); });
    }

    CommitResult commit() override {
        ++commits_;
        TakenChanges taken = stage().take();
        CommitResult result;
        result.failures = std::move(taken.refused);
        if (broken_) {
            result.fault = std::exchange(broken_, std::nullopt);
            return result;
        }
        table_ = table_ || !taken.changes.empty();
        for (const auto& change : taken.changes)
            apply(change, result);
        return result;
    }

    ListResult list() override {
        expire();
        ListResult result;
        if (list_broken_) {
            result.fault = std::exchange(list_broken_, std::nullopt);
            return result;
        }
        result.table_present = table_;
        for (const auto& [slot, held] : held_)
            result.elements.push_back(FirewallElement{
                slot.first, held.key, held.timeout, held.expires - now_, held.packets, held.bytes});
        std::sort(result.elements.begin(), result.elements.end(), [](const auto& a, const auto& b) {
            return std::tie(a.jail, a.key) < std::tie(b.jail, b.key);
        });
        return result;
    }

    CommitResult reconcile(const std::vector<ActiveBan>& bans) override {
        ++reconciles_;
        expire();
        CommitResult result;
        if (broken_) {
            result.fault = std::exchange(broken_, std::nullopt);
            return result;
        }
        const std::vector<PlannedElement> wanted = wanted_elements(bans, stage(), result.failures);
        std::vector<PlannedElement> present;
        for (const auto& [slot, held] : held_)
            present.push_back(
                PlannedElement{*stage().find_jail(slot.first), slot.second, held.expires - now_});
        const ReconcilePlan plan = plan_reconcile(wanted, present, reconcile_tolerance);
        for (const auto& write : reconcile_writes(plan, stage().jails()))
            apply(write.change, result);
        table_ = true;
        return result;
    }

    std::optional<FirewallFault> remove_all() override {
        held_.clear();
        table_ = false;
        return std::nullopt;
    }

  private:
    struct Held {
        BanKey key;
        std::chrono::milliseconds timeout;
        std::chrono::milliseconds expires;
        std::uint64_t packets = 0;
        std::uint64_t bytes = 0;
    };
    using Slot = std::pair<std::string, ElementKey>;

    void expire() {
        std::erase_if(held_, [&](const auto& entry) { return entry.second.expires <= now_; });
    }

    void apply(const ElementChange& change, CommitResult& result) {
        const FirewallJail& jail = stage().jails()[change.jail];
        const BanKey key = ban_key_of_element(change.element.data(), jail.ipv6_prefix).value();
        if (const auto refused = refused_.find({jail.name, key.to_string()});
            refused != refused_.end()) {
            result.failures.push_back(ElementFailure{change.kind, jail.name, change.key,
                                                     refused->second, "refused by the fake"});
            return;
        }
        const Slot slot{jail.name, change.element};
        if (change.kind == ElementChangeKind::add) {
            held_.insert_or_assign(slot, Held{key, change.timeout, now_ + change.timeout});
            ++result.added;
        } else {
            held_.erase(slot);
            ++result.removed;
        }
    }

    std::chrono::milliseconds now_{0};
    bool table_ = false;
    std::map<Slot, Held> held_;
    std::map<std::pair<std::string, std::string>, int> refused_;
    std::optional<FirewallFault> broken_;
    std::optional<FirewallFault> list_broken_;
    std::optional<FirewallSetupError> setup_error_;
    std::size_t setups_ = 0, commits_ = 0, reconciles_ = 0;
};

} // namespace exim_ban::testing
