#include "tail/file_identity.hpp"

#include <charconv>
#include <cstdio>

namespace exim_ban {
namespace {

// FNV-1a: simple, well defined, no dependency; 256 bytes take well under a
// microsecond, and the hash only has to tell unrelated log heads apart
// (they start with different timestamps), not resist an attacker.
constexpr std::uint64_t fnv_offset_basis = 0xcbf29ce484222325ULL;
constexpr std::uint64_t fnv_prime = 0x100000001b3ULL;

} // namespace

HeadHash hash_head(std::string_view head) {
    std::uint64_t value = fnv_offset_basis;
    for (const char byte : head) {
        value ^= static_cast<unsigned char>(byte);
        value *= fnv_prime;
    }
    return {head.size(), value};
}

std::string to_string(const HeadHash& head) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(head.value));
    return std::to_string(head.bytes) + ":" + hex;
}

std::optional<HeadHash> parse_head_hash(std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || colon == 0)
        return std::nullopt;
    const std::string_view bytes_text = text.substr(0, colon);
    const std::string_view value_text = text.substr(colon + 1);
    if (value_text.size() != 16)
        return std::nullopt;
    HeadHash head;
    const auto bytes_end = bytes_text.data() + bytes_text.size();
    const auto [bytes_stop, bytes_error] =
        std::from_chars(bytes_text.data(), bytes_end, head.bytes);
    if (bytes_error != std::errc() || bytes_stop != bytes_end || head.bytes > head_hash_bytes)
        return std::nullopt;
    const auto value_end = value_text.data() + value_text.size();
    const auto [value_stop, value_error] =
        std::from_chars(value_text.data(), value_end, head.value, 16);
    if (value_error != std::errc() || value_stop != value_end)
        return std::nullopt;
    return head;
}

} // namespace exim_ban
