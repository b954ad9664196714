#include "config/own_addresses.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <ifaddrs.h>
#include <memory>
#include <netinet/in.h>
#include <system_error>

namespace exim_ban {

std::vector<IpPrefix> own_addresses() {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0)
        throw std::system_error(errno, std::generic_category(), "getifaddrs");
    const std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> owned(list, &::freeifaddrs);

    std::vector<IpPrefix> addresses;
    for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
        if (entry->ifa_addr == nullptr)
            continue;
        if (entry->ifa_addr->sa_family == AF_INET) {
            sockaddr_in v4{};
            std::memcpy(&v4, entry->ifa_addr, sizeof v4);
            addresses.emplace_back(IpAddress::from_v4(ntohl(v4.sin_addr.s_addr)));
        } else if (entry->ifa_addr->sa_family == AF_INET6) {
            sockaddr_in6 v6{};
            std::memcpy(&v6, entry->ifa_addr, sizeof v6);
            IpAddress::Bytes bytes{};
            std::memcpy(bytes.data(), &v6.sin6_addr, bytes.size());
            addresses.emplace_back(IpAddress::from_v6(bytes));
        }
    }
    return addresses;
}

} // namespace exim_ban
