#include "core/ip_address.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <cstring>

namespace exim_ban {
namespace {

int hex_value(char c) {
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::optional<std::uint32_t> parse_v4(std::string_view text) {
    std::uint32_t value = 0;
    std::size_t pos = 0;
    for (int octet = 0; octet < 4; ++octet) {
        if (octet > 0) {
            if (pos >= text.size() || text[pos] != '.')
                return std::nullopt;
            ++pos;
        }
        const std::size_t start = pos;
        unsigned part = 0;
        while (pos < text.size() && is_digit(text[pos]) && pos - start < 3)
            part = part * 10 + static_cast<unsigned>(text[pos++] - '0');
        const std::size_t digits = pos - start;
        if (digits == 0 || part > 255 || (digits > 1 && text[start] == '0'))
            return std::nullopt;
        value = (value << 8) | part;
    }
    if (pos != text.size())
        return std::nullopt;
    return value;
}

std::optional<IpAddress::Bytes> parse_v6(std::string_view text) {
    // Groups before and after "::" are collected separately, then the gap
    // between them is zero-filled.
    std::array<std::uint16_t, 8> head{}, tail{};
    int head_count = 0, tail_count = 0;
    bool seen_gap = false;
    std::size_t pos = 0;

    if (text.starts_with("::")) {
        seen_gap = true;
        pos = 2;
        if (pos == text.size()) {
            return IpAddress::Bytes{};
        }
    } else if (text.starts_with(":")) {
        return std::nullopt;
    }

    while (pos < text.size()) {
        auto& groups = seen_gap ? tail : head;
        int& count = seen_gap ? tail_count : head_count;
        if (head_count + tail_count >= 8)
            return std::nullopt;

        // An embedded IPv4 address may end the text, standing for two groups.
        const std::size_t next_colon = text.find(':', pos);
        if (next_colon == std::string_view::npos && text.find('.', pos) != std::string_view::npos) {
            auto v4 = parse_v4(text.substr(pos));
            if (!v4 || head_count + tail_count > 6)
                return std::nullopt;
            groups[static_cast<std::size_t>(count++)] = static_cast<std::uint16_t>(*v4 >> 16);
            groups[static_cast<std::size_t>(count++)] = static_cast<std::uint16_t>(*v4 & 0xffff);
            pos = text.size();
            break;
        }

        unsigned group = 0;
        const std::size_t start = pos;
        while (pos < text.size() && pos - start < 4 && hex_value(text[pos]) >= 0)
            group = group * 16 + static_cast<unsigned>(hex_value(text[pos++]));
        if (pos == start)
            return std::nullopt;
        groups[static_cast<std::size_t>(count++)] = static_cast<std::uint16_t>(group);

        if (pos == text.size())
            break;
        if (text[pos] != ':')
            return std::nullopt;
        ++pos;
        if (pos < text.size() && text[pos] == ':') {
            if (seen_gap)
                return std::nullopt;
            seen_gap = true;
            ++pos;
        } else if (pos == text.size()) {
            return std::nullopt; // a single trailing colon
        }
    }

    const int total = head_count + tail_count;
    if (seen_gap ? total > 7 : total != 8)
        return std::nullopt;

    std::array<std::uint16_t, 8> groups{};
    std::copy_n(head.begin(), head_count, groups.begin());
    std::copy_n(tail.begin(), tail_count, groups.end() - tail_count);
    IpAddress::Bytes bytes{};
    for (std::size_t i = 0; i < 8; ++i) {
        bytes[2 * i] = static_cast<std::uint8_t>(groups[i] >> 8);
        bytes[2 * i + 1] = static_cast<std::uint8_t>(groups[i] & 0xff);
    }
    return bytes;
}

constexpr std::array<std::uint8_t, 12> v4_mapped_prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

} // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.empty() || text.size() > 45)
        return std::nullopt;
    if (text.find(':') == std::string_view::npos) {
        if (auto v4 = parse_v4(text))
            return from_v4(*v4);
        return std::nullopt;
    }
    if (auto v6 = parse_v6(text))
        return from_v6(*v6);
    return std::nullopt;
}

IpAddress IpAddress::from_v4(std::uint32_t host_order) {
    IpAddress address;
    address.family_ = Family::v4;
    address.bytes_[0] = static_cast<std::uint8_t>(host_order >> 24);
    address.bytes_[1] = static_cast<std::uint8_t>(host_order >> 16);
    address.bytes_[2] = static_cast<std::uint8_t>(host_order >> 8);
    address.bytes_[3] = static_cast<std::uint8_t>(host_order);
    return address;
}

IpAddress IpAddress::from_v6(const Bytes& bytes) {
    if (std::equal(v4_mapped_prefix.begin(), v4_mapped_prefix.end(), bytes.begin())) {
        return from_v4(static_cast<std::uint32_t>(bytes[12]) << 24 |
                       static_cast<std::uint32_t>(bytes[13]) << 16 |
                       static_cast<std::uint32_t>(bytes[14]) << 8 | bytes[15]);
    }
    IpAddress address;
    address.family_ = Family::v6;
    address.bytes_ = bytes;
    return address;
}

std::uint32_t IpAddress::v4_value() const {
    return static_cast<std::uint32_t>(bytes_[0]) << 24 |
           static_cast<std::uint32_t>(bytes_[1]) << 16 |
           static_cast<std::uint32_t>(bytes_[2]) << 8 | bytes_[3];
}

IpAddress IpAddress::masked(int prefix_length) const {
    IpAddress result = *this;
    const int bits = std::clamp(prefix_length, 0, bit_length());
    const auto used = static_cast<std::size_t>(bit_length() / 8);
    for (std::size_t i = 0; i < used; ++i) {
        const int kept = std::clamp(bits - static_cast<int>(i) * 8, 0, 8);
        const auto mask = static_cast<std::uint8_t>(kept == 0 ? 0 : 0xff << (8 - kept));
        result.bytes_[i] &= mask;
    }
    return result;
}

bool IpAddress::is_loopback() const {
    if (is_v4())
        return bytes_[0] == 127;
    for (std::size_t i = 0; i < 15; ++i) {
        if (bytes_[i] != 0)
            return false;
    }
    return bytes_[15] == 1;
}

std::string IpAddress::to_string() const {
    if (is_v4()) {
        return std::to_string(bytes_[0]) + '.' + std::to_string(bytes_[1]) + '.' +
               std::to_string(bytes_[2]) + '.' + std::to_string(bytes_[3]);
    }
    std::array<unsigned, 8> groups{};
    for (std::size_t i = 0; i < 8; ++i)
        groups[i] = static_cast<unsigned>(bytes_[2 * i]) << 8 | bytes_[2 * i + 1];

    // RFC 5952 4.2: compress the longest run of zero groups (the first one on
    // a tie), but never a single group.
    int best_start = -1, best_length = 0;
    for (int i = 0; i < 8;) {
        if (groups[static_cast<std::size_t>(i)] != 0) {
            ++i;
            continue;
        }
        int j = i;
        while (j < 8 && groups[static_cast<std::size_t>(j)] == 0)
            ++j;
        if (j - i > best_length) {
            best_start = i;
            best_length = j - i;
        }
        i = j;
    }
    if (best_length < 2)
        best_start = -1;

    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    text.reserve(39);
    for (int i = 0; i < 8; ++i) {
        if (i == best_start) {
            text += "::";
            i += best_length - 1;
            continue;
        }
        if (!text.empty() && text.back() != ':')
            text += ':';
        const unsigned group = groups[static_cast<std::size_t>(i)];
        bool leading = true;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const unsigned nibble = (group >> shift) & 0xf;
            if (leading && nibble == 0 && shift > 0)
                continue;
            leading = false;
            text += digits[nibble];
        }
    }
    return text;
}

std::size_t IpAddressHash::operator()(const IpAddress& address) const noexcept {
    // Two 64-bit words mixed with multiply-xorshift: every hit is hashed
    // several times on its way through the tracker and the store, so this
    // must cost a handful of instructions, not a loop over bytes.
    std::uint64_t high = 0, low = 0;
    std::memcpy(&high, address.bytes().data(), 8);
    std::memcpy(&low, address.bytes().data() + 8, 8);
    std::uint64_t hash =
        (high ^ (low * 0x9e3779b97f4a7c15ULL)) + (address.is_v4() ? 0 : 0x632be59bd9b4e019ULL);
    hash ^= hash >> 32;
    hash *= 0xd6e8feb86659fd93ULL;
    hash ^= hash >> 32;
    return static_cast<std::size_t>(hash);
}

} // namespace exim_ban
