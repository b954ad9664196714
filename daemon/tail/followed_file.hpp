// A log file open for reading: its descriptor, which file system object it
// is, and the hash of its head as last taken. Failures are values: an errno,
// or not_regular_file.
#pragma once

#include "tail/file_identity.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace exim_ban {

// The error of a path that names something other than a regular file (a
// directory, a FIFO, a device): following it could block or never end.
inline constexpr int not_regular_file = -1;

// strerror's text, or "not a regular file".
std::string describe_file_error(int error);

struct FileOpening;

struct FileRead {
    std::size_t bytes = 0; // 0 at the end of the file
    int error = 0;
};

struct FileStatus {
    std::uint64_t size = 0;
    std::uint64_t links = 0; // 0: deleted, only open descriptors keep it
    int error = 0;
};

// What a path names now; `id` is nullopt with error ENOENT or ENOTDIR when
// nothing is there, with another errno when it cannot be told.
struct PathLookup {
    std::optional<FileId> id;
    std::uint64_t size = 0;
    int error = 0;
};

PathLookup look_up_path(const std::string& path);

class FollowedFile {
  public:
    // Opens `path` read-only without blocking (a FIFO there must not hang
    // the daemon), then takes its head hash over min(size, head_hash_bytes).
    static FileOpening open(const std::string& path);

    FollowedFile(FollowedFile&& other) noexcept;
    FollowedFile& operator=(FollowedFile&& other) noexcept;
    FollowedFile(const FollowedFile&) = delete;
    FollowedFile& operator=(const FollowedFile&) = delete;
    ~FollowedFile();

    int descriptor() const { return fd_; }
    const FileId& id() const { return id_; }
    // As last taken by open() or retake_head().
    const HeadHash& head() const { return head_; }

    FileStatus status() const;
    // Up to `capacity` bytes from `offset`; retried on EINTR.
    FileRead read_at(std::uint64_t offset, char* buffer, std::size_t capacity) const;
    // The hash of the first `bytes` bytes as the file holds them now;
    // nullopt when it is shorter, cannot be read, or `bytes` is over
    // head_hash_bytes.
    std::optional<HeadHash> hash_first(std::size_t bytes) const;
    // Whether the first head().bytes bytes still hash to head().
    bool head_unchanged() const;
    // Takes the head hash again over min(`size`, head_hash_bytes) bytes:
    // for a file that grew since (a longer head tells files apart better)
    // or was truncated and is read again. Keeps the old one when the file
    // cannot be read that far.
    void retake_head(std::uint64_t size);

  private:
    FollowedFile(int fd, FileId id);

    int fd_ = -1;
    FileId id_;
    HeadHash head_;
};

struct FileOpening {
    std::optional<FollowedFile> file; // set when opened
    int error = 0;                    // otherwise: ENOENT when nothing is there
};

} // namespace exim_ban
