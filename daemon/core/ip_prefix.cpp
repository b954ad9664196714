#include "core/ip_prefix.hpp"

#include <algorithm>
#include <charconv>

namespace exim_ban {

IpPrefix::IpPrefix(const IpAddress& address, int length)
    : network_(address.masked(length))
    , length_(std::clamp(length, 0, address.bit_length())) {}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
    const auto slash = text.find('/');
    auto address = IpAddress::parse(text.substr(0, slash));
    if (!address)
        return std::nullopt;
    if (slash == std::string_view::npos)
        return IpPrefix(*address);

    const std::string_view digits = text.substr(slash + 1);
    int length = -1;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (error != std::errc{} || end != digits.data() + digits.size() || digits.size() > 3 ||
        (digits.size() > 1 && digits[0] == '0'))
        return std::nullopt;

    const bool written_as_v6 = text.substr(0, slash).find(':') != std::string_view::npos;
    if (address->is_v4() && written_as_v6) {
        // An IPv4-mapped network: its length counts the 96 bits of the mapping.
        if (length < 96 || length > 128)
            return std::nullopt;
        length -= 96;
    }
    if (length < 0 || length > address->bit_length())
        return std::nullopt;
    return IpPrefix(*address, length);
}

bool IpPrefix::contains(const IpAddress& address) const {
    return address.family() == network_.family() && address.masked(length_) == network_;
}

std::string IpPrefix::to_string() const {
    if (is_single_address())
        return network_.to_string();
    return network_.to_string() + '/' + std::to_string(length_);
}

std::size_t IpPrefixHash::operator()(const IpPrefix& prefix) const noexcept {
    return IpAddressHash{}(prefix.network()) * 131 + static_cast<std::size_t>(prefix.length());
}

} // namespace exim_ban
