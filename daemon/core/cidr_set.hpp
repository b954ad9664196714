// A set of networks answering "is this address inside any of them?": the
// ignoreip list, Exim host-list files, the host's own addresses.
#pragma once

#include "core/ip_address.hpp"
#include "core/ip_prefix.hpp"

#include <cstddef>
#include <unordered_set>
#include <vector>

namespace exim_ban {

class CidrSet {
  public:
    void add(const IpPrefix& prefix);
    bool contains(const IpAddress& address) const;
    // Whether `prefix` shares any address with a network of the set: a ban
    // of an IPv6 /64 must not cover an ignored address inside it. Costs a
    // pass over the networks longer than `prefix`; meant for ban decisions,
    // not for every hit.
    bool overlaps(const IpPrefix& prefix) const;
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

  private:
    // One hash set per prefix length in use: a lookup costs one probe per
    // distinct length, not one per network, so large lists stay cheap.
    struct SameLength {
        IpAddress::Family family;
        int length;
        std::unordered_set<IpAddress, IpAddressHash> networks;
    };
    std::vector<SameLength> by_length_;
    std::size_t size_ = 0;
};

} // namespace exim_ban
