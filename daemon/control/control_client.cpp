#include "control/control_client.hpp"

#include "control/control_request.hpp"
#include "control/socket_file.hpp"
#include "core/unique_fd.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace exim_ban {
namespace {

using Clock = std::chrono::steady_clock;

std::string quoted(const std::filesystem::path& path) {
    return "\"" + path.string() + "\"";
}

std::string error_text(int error) {
    return std::strerror(error);
}

class Call {
  public:
    Call(const std::filesystem::path& socket, std::chrono::milliseconds timeout)
        : socket_(socket)
        , timeout_(timeout)
        , deadline_(Clock::now() + timeout) {}

    [[noreturn]] void timed_out() const {
        throw ControlUnreachable("exim-band did not answer on " + quoted(socket_) + " within " +
                                 std::to_string(timeout_.count()) + " ms");
    }

    // Waits for `events` on `fd` until the deadline; throws when it passes.
    void wait_for(int fd, short events) const {
        while (true) {
            const auto left =
                std::chrono::ceil<std::chrono::milliseconds>(deadline_ - Clock::now());
            if (left.count() <= 0)
                timed_out();
            pollfd polled{fd, events, 0};
            const int ready = ::poll(&polled, 1, static_cast<int>(left.count()));
            if (ready > 0)
                return;
            if (ready < 0 && errno != EINTR)
                throw std::runtime_error("cannot wait for " + quoted(socket_) + ": " +
                                         error_text(errno));
        }
    }

    const std::filesystem::path& socket() const { return socket_; }
    std::chrono::milliseconds timeout() const { return timeout_; }

  private:
    const std::filesystem::path& socket_;
    std::chrono::milliseconds timeout_;
    Clock::time_point deadline_;
};

void connect_to(const Call& call, int fd) {
    const sockaddr_un address = unix_socket_address(call.socket());
    // A Unix connect blocks only while the daemon's backlog is full; the
    // send timeout bounds that wait (it then fails with EAGAIN).
    timeval limit{};
    limit.tv_sec = static_cast<time_t>(call.timeout().count() / 1000);
    limit.tv_usec = static_cast<suseconds_t>(call.timeout().count() % 1000 * 1000);
    if (::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) != 0)
        throw std::runtime_error("cannot set a socket timeout: " + error_text(errno));
    int error = 0;
    do {
        error = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0
                    ? 0
                    : errno;
    } while (error == EINTR);
    switch (error) {
    case 0:
        return;
    case ENOENT:
    case ENOTDIR:
        throw ControlUnreachable("no control socket at " + quoted(call.socket()) +
                                 ": is exim-band running? (--socket or --config names another)");
    case ECONNREFUSED:
        throw ControlUnreachable("connection refused on " + quoted(call.socket()) +
                                 ": exim-band is not running (the socket file is stale)");
    case EAGAIN:
    case ETIMEDOUT:
        call.timed_out();
    case EACCES:
    case EPERM:
        throw std::runtime_error("permission denied on " + quoted(call.socket()) +
                                 ": run as root or as a member of exim-band's control group");
    default:
        throw std::runtime_error("cannot connect to " + quoted(call.socket()) + ": " +
                                 error_text(error));
    }
}

void send_line(const Call& call, int fd, const std::string& line) {
    std::size_t sent = 0;
    while (sent < line.size()) {
        const ssize_t written =
            ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (written >= 0) {
            sent += static_cast<std::size_t>(written);
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            call.wait_for(fd, POLLOUT);
        else if (errno == EPIPE || errno == ECONNRESET)
            // The daemon refused the connection after accepting it (too
            // many clients, a request too long) and said why: read that.
            return;
        else if (errno != EINTR)
            throw std::runtime_error("cannot send to " + quoted(call.socket()) + ": " +
                                     error_text(errno));
    }
}

std::string receive_line(const Call& call, int fd) {
    std::string received;
    std::array<char, 65536> chunk{};
    while (true) {
        const ssize_t got = ::recv(fd, chunk.data(), chunk.size(), MSG_DONTWAIT);
        if (got > 0) {
            const auto from = received.size();
            received.append(chunk.data(), static_cast<std::size_t>(got));
            const auto newline = received.find('\n', from);
            if (newline != std::string::npos) {
                received.resize(newline);
                return received;
            }
            continue;
        }
        if (got == 0)
            throw std::runtime_error("exim-band closed the connection on " + quoted(call.socket()) +
                                     " without a reply");
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            call.wait_for(fd, POLLIN);
        else if (errno != EINTR)
            throw std::runtime_error("cannot read from " + quoted(call.socket()) + ": " +
                                     error_text(errno));
    }
}

} // namespace

nlohmann::json control_call(const std::filesystem::path& socket, const nlohmann::json& request,
                            std::chrono::milliseconds timeout) {
    const Call call(socket, timeout);
    const UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0)
        throw std::runtime_error("cannot create a socket: " + error_text(errno));
    connect_to(call, fd.get());
    // The same one-line encoding as the replies.
    send_line(call, fd.get(), encode_reply(request));
    const std::string line = receive_line(call, fd.get());
    nlohmann::json reply;
    try {
        reply = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& error) {
        throw std::runtime_error("exim-band's reply on " + quoted(socket) +
                                 " is not JSON: " + error.what());
    }
    if (!reply.is_object())
        throw std::runtime_error("exim-band's reply on " + quoted(socket) +
                                 " is not a JSON object");
    return reply;
}

} // namespace exim_ban
