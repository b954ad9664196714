// A file descriptor that is closed when its owner goes away, unless it was
// released. For the edges that hold one briefly (a client socket, a file
// being written); the long-lived ones belong to Asio objects.
#pragma once

#include <cerrno>
#include <unistd.h>
#include <utility>

namespace exim_ban {

class UniqueFd {
  public:
    explicit UniqueFd(int fd)
        : fd_(fd) {}
    // A close that fails here has nothing left to report to: callers that
    // must know (a file whose write-back matters) call close() first.
    ~UniqueFd() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }
    // Returns 0 or the errno close() failed with.
    int close() { return ::close(std::exchange(fd_, -1)) == 0 ? 0 : errno; }

  private:
    int fd_;
};

} // namespace exim_ban
