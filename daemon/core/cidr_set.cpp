#include "core/cidr_set.hpp"

#include <algorithm>

namespace exim_ban {

void CidrSet::add(const IpPrefix& prefix) {
    const auto family = prefix.network().family();
    auto bucket = std::find_if(by_length_.begin(), by_length_.end(), [&](const SameLength& b) {
        return b.family == family && b.length == prefix.length();
    });
    if (bucket == by_length_.end()) {
        by_length_.push_back({family, prefix.length(), {}});
        bucket = std::prev(by_length_.end());
    }
    if (bucket->networks.insert(prefix.network()).second)
        ++size_;
}

bool CidrSet::contains(const IpAddress& address) const {
    return std::any_of(by_length_.begin(), by_length_.end(), [&](const SameLength& bucket) {
        return bucket.family == address.family() &&
               bucket.networks.contains(address.masked(bucket.length));
    });
}

bool CidrSet::overlaps(const IpPrefix& prefix) const {
    if (contains(prefix.network()))
        return true;
    return std::any_of(by_length_.begin(), by_length_.end(), [&](const SameLength& bucket) {
        if (bucket.family != prefix.network().family() || bucket.length <= prefix.length())
            return false;
        return std::any_of(bucket.networks.begin(), bucket.networks.end(),
                           [&](const IpAddress& network) { return prefix.contains(network); });
    });
}

} // namespace exim_ban
