// What the control tests share: a ControlServer on a real Unix socket in a
// temporary directory, driven by a real io_context in the test thread; a
// handler that records and echoes; raw non-blocking clients. Nothing
// sleeps: the io_context runs until a condition holds, and a condition that
// does not hold within 5 s fails.
#pragma once

#include "control/control_server.hpp"
#include "support/run_until.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

namespace exim_ban::testing {

// Replies {"ok":true,"cmd":...,"body":...}; a request with "fail" throws;
// one with "later" is answered when the test calls the reply kept in
// `waiting`.
class EchoHandler : public ControlHandler {
  public:
    std::optional<nlohmann::json> handle(const ControlRequest& request,
                                         const Reply& later) override {
        requests.push_back(request);
        if (during)
            during(request);
        if (request.body.contains("fail"))
            throw std::runtime_error(request.body["fail"].get<std::string>());
        nlohmann::json reply = {{"ok", true}, {"cmd", request.cmd}, {"body", request.body}};
        if (!request.body.contains("later"))
            return reply;
        waiting.push_back([later, line = encode_reply(reply)] { later(line); });
        return std::nullopt;
    }

    std::vector<ControlRequest> requests;
    std::function<void(const ControlRequest&)> during;
    std::vector<std::function<void()>> waiting; // replies not sent yet
};

// A connected client socket, non-blocking, read and written by hand.
class RawClient {
  public:
    explicit RawClient(const std::filesystem::path& socket) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        REQUIRE(socket.native().size() < sizeof address.sun_path);
        socket.native().copy(address.sun_path, sizeof address.sun_path - 1);
        // A Unix connect completes against the listen backlog, before the
        // server accepts.
        REQUIRE(::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
        REQUIRE(::fcntl(fd_, F_SETFL, O_NONBLOCK) == 0);
    }
    // No REQUIRE here: a destructor may run while a failure unwinds.
    ~RawClient() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    void close() {
        if (fd_ >= 0)
            REQUIRE(::close(fd_) == 0);
        fd_ = -1;
    }

    // Sends what the socket takes now; the rest stays in `unsent`.
    // Returns false once the server has closed the connection.
    bool push(std::string& unsent) {
        while (!unsent.empty()) {
            const ssize_t sent = ::send(fd_, unsent.data(), unsent.size(), MSG_NOSIGNAL);
            if (sent < 0) {
                REQUIRE((errno == EAGAIN || errno == EPIPE || errno == ECONNRESET));
                return errno == EAGAIN;
            }
            unsent.erase(0, static_cast<std::size_t>(sent));
        }
        return true;
    }

    // Reads what has arrived; true when the peer has closed.
    bool drain() {
        char chunk[4096];
        while (!eof_) {
            const ssize_t got = ::recv(fd_, chunk, sizeof chunk, 0);
            if (got > 0) {
                received_.append(chunk, static_cast<std::size_t>(got));
                continue;
            }
            if (got == 0 || errno == ECONNRESET) {
                eof_ = true;
                break;
            }
            REQUIRE(errno == EAGAIN);
            break;
        }
        return eof_;
    }

    // The next complete line (with its '\n') if one has arrived.
    std::optional<std::string> take_line() {
        drain();
        const auto newline = received_.find('\n');
        if (newline == std::string::npos)
            return std::nullopt;
        std::string line = received_.substr(0, newline + 1);
        received_.erase(0, newline + 1);
        return line;
    }

    const std::string& received() const { return received_; }
    int fd() const { return fd_; }

  private:
    int fd_ = -1;
    std::string received_;
    bool eof_ = false;
};

class ControlFixture {
  public:
    ControlServerOptions options() const {
        ControlServerOptions made;
        made.socket = socket;
        return made;
    }

    void start(ControlServerOptions options) {
        server = std::make_unique<ControlServer>(io, std::move(options), handler);
    }
    void start() { start(options()); }
    // Starts the server with the default options and connects a client.
    RawClient start_and_connect() {
        start();
        return RawClient(socket);
    }
    // A connection that makes no progress for `idle_timeout` is closed.
    void start_idling_out_after(std::chrono::milliseconds idle_timeout) {
        auto shorter = options();
        shorter.idle_timeout = idle_timeout;
        start(shorter);
    }

    // Runs the io_context until `done` holds; false after 5 s.
    bool run_until(const std::function<bool()>& done) {
        return exim_ban::testing::run_until(io, done);
    }

    void send(RawClient& client, std::string text) {
        bool open = true;
        REQUIRE(run_until([&] { return !(open = client.push(text)) || text.empty(); }));
        REQUIRE(open);
    }

    // The next reply line; fails the test after 5 s without one.
    std::string reply(RawClient& client) {
        std::optional<std::string> line;
        REQUIRE(run_until([&] { return (line = client.take_line()).has_value(); }));
        return *line;
    }

    nlohmann::json reply_json(RawClient& client) { return nlohmann::json::parse(reply(client)); }

    // Whether the server closes `client` within 5 s.
    bool closed(RawClient& client) {
        return run_until([&] { return client.drain(); });
    }

    TempDir dir;
    std::filesystem::path socket = dir / "run/control.sock";
    boost::asio::io_context io;
    EchoHandler handler;
    std::unique_ptr<ControlServer> server;
};

} // namespace exim_ban::testing
