#include "firewall/staged_changes.hpp"

#include <cerrno>
#include <utility>

namespace exim_ban {

void StagedChanges::set_jails(const std::vector<FirewallJail>& jails) {
    jails_ = jails;
    take();
}

std::optional<std::size_t> StagedChanges::find_jail(std::string_view name) const {
    for (std::size_t i = 0; i < jails_.size(); ++i) {
        if (jails_[i].name == name)
            return i;
    }
    return std::nullopt;
}

void StagedChanges::add(std::string_view jail, const BanKey& key,
                        std::chrono::milliseconds timeout) {
    stage(ElementChangeKind::add, jail, key, timeout);
}

void StagedChanges::remove(std::string_view jail, const BanKey& key) {
    stage(ElementChangeKind::remove, jail, key, {});
}

TakenChanges StagedChanges::take() {
    index_.clear();
    return TakenChanges{std::exchange(changes_, {}), std::exchange(refused_, {})};
}

void StagedChanges::stage(ElementChangeKind kind, std::string_view jail, const BanKey& key,
                          std::chrono::milliseconds timeout) {
    const auto refuse = [&](int error, std::string reason) {
        refused_.push_back(ElementFailure{kind, std::string(jail), key, error, std::move(reason)});
    };
    const auto jail_index = find_jail(jail);
    if (!jail_index) {
        refuse(ENOENT, "no jail '" + std::string(jail) + "' in the firewall setup");
        return;
    }
    const int ipv6_prefix = jails_[*jail_index].ipv6_prefix;
    const auto element = element_key(key, ipv6_prefix);
    if (!element) {
        refuse(EINVAL, element_key_problem(key, ipv6_prefix));
        return;
    }
    if (kind == ElementChangeKind::add && timeout.count() <= 0) {
        refuse(EINVAL, "ban of " + key.to_string() + " has no time left");
        return;
    }

    ElementChange change{kind, *jail_index, key, *element, timeout};
    const auto [slot, inserted] = index_.try_emplace(Slot{*jail_index, *element}, changes_.size());
    if (inserted)
        changes_.push_back(change);
    else
        changes_[slot->second] = change;
}

std::size_t StagedChanges::SlotHash::operator()(const Slot& slot) const noexcept {
    // FNV-1a over the element bytes; the jail index and family mixed in.
    std::size_t hash = 1469598103934665603ULL ^ (slot.jail * 2 + (slot.element.size() == 16));
    for (const std::uint8_t byte : slot.element.data())
        hash = (hash ^ byte) * 1099511628211ULL;
    return hash;
}

} // namespace exim_ban
