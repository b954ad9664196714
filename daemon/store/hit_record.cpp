#include "store/hit_record.hpp"

#include <cstring>

namespace exim_ban {
namespace {

void put(std::string& data, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i)
        data += static_cast<char>((value >> (8 * i)) & 0xff);
}

std::uint64_t get(std::string_view data, std::size_t at, int bytes) {
    std::uint64_t value = 0;
    for (int i = bytes - 1; i >= 0; --i)
        value = value << 8 | static_cast<unsigned char>(data[at + static_cast<std::size_t>(i)]);
    return value;
}

} // namespace

void append_hit_record(std::string& data, const HitRecord& hit) {
    put(data, static_cast<std::uint64_t>(hit.time), 8);
    put(data, hit.pattern, 4);
    put(data, static_cast<std::uint64_t>(hit.key.length()), 1);
    put(data, hit.key.network().is_v4() ? 4 : 6, 1);
    put(data, 0, 2);
    data.append(reinterpret_cast<const char*>(hit.key.network().bytes().data()), 16);
}

std::optional<HitRecord> read_hit_record(std::string_view data, std::size_t index) {
    const std::size_t at = index * hit_record_size;
    if (at + hit_record_size > data.size())
        return std::nullopt;
    IpAddress::Bytes bytes{};
    std::memcpy(bytes.data(), data.data() + at + 16, bytes.size());
    const auto family = get(data, at + 13, 1);
    IpAddress address;
    if (family == 4)
        address = IpAddress::from_v4(static_cast<std::uint32_t>(bytes[0]) << 24 |
                                     static_cast<std::uint32_t>(bytes[1]) << 16 |
                                     static_cast<std::uint32_t>(bytes[2]) << 8 | bytes[3]);
    else if (family == 6)
        address = IpAddress::from_v6(bytes);
    else
        return std::nullopt;
    return HitRecord{IpPrefix(address, static_cast<int>(get(data, at + 12, 1))),
                     static_cast<std::int64_t>(get(data, at, 8)),
                     static_cast<std::uint32_t>(get(data, at + 8, 4))};
}

} // namespace exim_ban
