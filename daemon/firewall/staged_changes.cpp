#include "firewall/staged_changes.hpp"

#include <algorithm>
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
    index_.shrink_to_fit();
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
    if (2 * (changes_.size() + 1) > index_.size())
        grow_index();
    const std::size_t mask = index_.size() - 1;
    for (std::size_t slot = hash(change.jail, change.element) & mask;; slot = (slot + 1) & mask) {
        if (index_[slot] == 0) {
            index_[slot] = static_cast<std::uint32_t>(changes_.size() + 1);
            changes_.push_back(change);
            return;
        }
        ElementChange& staged = changes_[index_[slot] - 1];
        if (staged.jail == change.jail && staged.element == change.element) {
            staged = change;
            return;
        }
    }
}

void StagedChanges::grow_index() {
    index_.assign(std::max<std::size_t>(64, index_.size() * 2), 0);
    const std::size_t mask = index_.size() - 1;
    for (std::size_t i = 0; i < changes_.size(); ++i) {
        std::size_t slot = hash(changes_[i].jail, changes_[i].element) & mask;
        while (index_[slot] != 0)
            slot = (slot + 1) & mask;
        index_[slot] = static_cast<std::uint32_t>(i + 1);
    }
}

std::size_t StagedChanges::hash(std::size_t jail, const ElementKey& element) {
    // FNV-1a over the element bytes, the jail and family mixed in.
    std::uint64_t hash = 1469598103934665603ULL ^ (jail * 2 + (element.size() == 16 ? 1 : 0));
    for (const std::uint8_t byte : element.data())
        hash = (hash ^ byte) * 1099511628211ULL;
    return static_cast<std::size_t>(hash ^ (hash >> 29));
}

} // namespace exim_ban
