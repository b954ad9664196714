// What tells one log file from another: the file system object (device and
// inode) and a hash of its first bytes, which tells a new file that reuses
// an inode, or a file truncated and written again, from the one read before.
// Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace exim_ban {

// A head hash covers at most this many bytes from the start of a file.
inline constexpr std::size_t head_hash_bytes = 256;

// 64-bit FNV-1a of a file's first `bytes` bytes.
struct HeadHash {
    std::size_t bytes = 0;
    std::uint64_t value = 0;
    friend bool operator==(const HeadHash&, const HeadHash&) = default;
};

// The hash of `head`, all of it: the caller passes min(file size,
// head_hash_bytes) bytes.
HeadHash hash_head(std::string_view head);

// "<bytes>:<16 lowercase hex digits>", LogPosition::head_hash's form.
std::string to_string(const HeadHash& head);

// The head hash `text` spells; nullopt when it is not in that form or
// covers more than head_hash_bytes.
std::optional<HeadHash> parse_head_hash(std::string_view text);

// A file system object: the same one under another name after a rename.
struct FileId {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    friend bool operator==(const FileId&, const FileId&) = default;
};

} // namespace exim_ban
