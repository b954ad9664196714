#include "tail/followed_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace exim_ban {

std::string describe_file_error(int error) {
    if (error == not_regular_file)
        return "not a regular file";
    return std::strerror(error);
}

PathLookup look_up_path(const std::string& path) {
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0)
        return {std::nullopt, 0, errno};
    return {FileId{status.st_dev, status.st_ino}, static_cast<std::uint64_t>(status.st_size), 0};
}

FileOpening FollowedFile::open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return {std::nullopt, errno};
    struct stat status {};
    if (::fstat(fd, &status) != 0) {
        const int error = errno;
        ::close(fd);
        return {std::nullopt, error};
    }
    if (!S_ISREG(status.st_mode)) {
        ::close(fd);
        return {std::nullopt, not_regular_file};
    }
    FollowedFile file(fd, FileId{status.st_dev, status.st_ino});
    file.retake_head(static_cast<std::uint64_t>(status.st_size));
    return {std::move(file), 0};
}

FollowedFile::FollowedFile(int fd, FileId id)
    : fd_(fd)
    , id_(id) {}

FollowedFile::FollowedFile(FollowedFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1))
    , id_(other.id_)
    , head_(other.head_) {}

FollowedFile& FollowedFile::operator=(FollowedFile&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        id_ = other.id_;
        head_ = other.head_;
    }
    return *this;
}

FollowedFile::~FollowedFile() {
    if (fd_ >= 0)
        ::close(fd_);
}

FileStatus FollowedFile::status() const {
    struct stat status {};
    if (::fstat(fd_, &status) != 0)
        return {0, 0, errno};
    return {static_cast<std::uint64_t>(status.st_size), status.st_nlink, 0};
}

FileRead FollowedFile::read_at(std::uint64_t offset, char* buffer, std::size_t capacity) const {
    while (true) {
        const ssize_t got = ::pread(fd_, buffer, capacity, static_cast<off_t>(offset));
        if (got >= 0)
            return {static_cast<std::size_t>(got), 0};
        if (errno != EINTR)
            return {0, errno};
    }
}

std::optional<HeadHash> FollowedFile::hash_first(std::size_t bytes) const {
    char head[head_hash_bytes];
    if (bytes > head_hash_bytes)
        return std::nullopt;
    std::size_t have = 0;
    // A short read is not the end of a regular file until pread says 0.
    while (have < bytes) {
        const FileRead read = read_at(have, head + have, bytes - have);
        if (read.error != 0 || read.bytes == 0)
            return std::nullopt;
        have += read.bytes;
    }
    return hash_head(std::string_view(head, bytes));
}

bool FollowedFile::head_unchanged() const {
    return hash_first(head_.bytes) == head_;
}

void FollowedFile::retake_head(std::uint64_t size) {
    const auto bytes = static_cast<std::size_t>(std::min<std::uint64_t>(size, head_hash_bytes));
    if (const auto head = hash_first(bytes))
        head_ = *head;
}

} // namespace exim_ban
