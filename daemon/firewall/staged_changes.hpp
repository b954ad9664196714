// Bans and unbans waiting for the next commit, one per set element: keys
// are turned into elements when staged (an IPv6 key widened to its jail's
// ipv6_prefix), and the last change staged for an element replaces the
// earlier ones, so that a batch never holds two changes of one element that
// the kernel would apply in the wrong order. Shared by every backend, so
// that all of them refuse the same changes for the same reasons.
#pragma once

#include "core/ban_key.hpp"
#include "firewall/element_key.hpp"
#include "firewall/firewall_jail.hpp"
#include "firewall/firewall_values.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exim_ban {

struct ElementChange {
    ElementChangeKind kind = ElementChangeKind::add;
    std::size_t jail = 0; // index into the jails given to set_jails()
    BanKey key;           // as staged, for reports
    ElementKey element;
    std::chrono::milliseconds timeout{0}; // add only
};

struct TakenChanges {
    std::vector<ElementChange> changes;  // in the order their elements were first staged
    std::vector<ElementFailure> refused; // never reach the kernel
};

class StagedChanges {
  public:
    // The jails changes may name; clears the stage.
    void set_jails(const std::vector<FirewallJail>& jails);
    const std::vector<FirewallJail>& jails() const { return jails_; }
    // The index of the jail called `name`, or nullopt.
    std::optional<std::size_t> find_jail(std::string_view name) const;

    // Refused (reported by take()): an unknown jail, a key no element can
    // stand for (see element_key()), an add with a timeout <= 0.
    void add(std::string_view jail, const BanKey& key, std::chrono::milliseconds timeout);
    void remove(std::string_view jail, const BanKey& key);

    std::size_t size() const { return changes_.size() + refused_.size(); }
    bool empty() const { return size() == 0; }

    // Everything staged; the stage is empty afterwards.
    TakenChanges take();

  private:
    void stage(ElementChangeKind kind, std::string_view jail, const BanKey& key,
               std::chrono::milliseconds timeout);

    static std::size_t hash(std::size_t jail, const ElementKey& element);
    void grow_index();

    std::vector<FirewallJail> jails_;
    std::vector<ElementChange> changes_;
    std::vector<ElementFailure> refused_;
    // Open addressing over positions in changes_ (+1; 0 is empty): a
    // commit can stage 100,000 bans, and one allocation per ban showed.
    std::vector<std::uint32_t> index_;
};

} // namespace exim_ban
