// The packed form of a hit inside hit_batches.data: 32 bytes, little
// endian: time (8), pattern (4), prefix length (1), family (1: 4 or 6),
// reserved (2), address (16, network order).
#pragma once

#include "core/ban_key.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace exim_ban {

inline constexpr std::size_t hit_record_size = 32;

struct HitRecord {
    BanKey key;
    std::int64_t time = 0;
    std::uint32_t pattern = 0;
};

void append_hit_record(std::string& data, const HitRecord& hit);
// The record at `index`; nullopt when the bytes do not form one.
std::optional<HitRecord> read_hit_record(std::string_view data, std::size_t index);

} // namespace exim_ban
