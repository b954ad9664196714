// The daemon's end of the control socket, on its one io_context: accepts
// connections, reads one JSON request per line, checks the peer's right to
// it (SO_PEERCRED) and answers each in order with the handler's reply. A
// client cannot hurt the daemon: requests are bounded in size and depth,
// idle connections are closed, connections are capped, and a handler that
// throws becomes an error reply.
#pragma once

#include "control/control_request.hpp"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace exim_ban {

// What the control socket serves: the daemon's state.
class ControlHandler {
  public:
    // Hands a reply over later: one line as encode_reply makes it, on the
    // io_context's thread. A reply to a connection closed meanwhile goes
    // nowhere.
    using Reply = std::function<void(std::string line)>;

    virtual ~ControlHandler() = default;
    // The full reply to a request the peer may send, {"ok":true,...} or
    // {"ok":false,"error":...}: the server adds nothing. Or nullopt when the
    // handler answers later, through a copy of `later` that it calls once;
    // the connection reads its next request after that reply. Called on the
    // io_context's thread only. An exception becomes
    // {"ok":false,"error":"<cmd> failed: <what>"}.
    virtual std::optional<nlohmann::json> handle(const ControlRequest& request,
                                                 const Reply& later) = 0;
};

struct ControlServerOptions {
    std::filesystem::path socket;
    std::string group;                                      // may read; empty: the daemon's own gid
    std::size_t max_request_bytes = std::size_t{64} * 1024; // a line, without its '\n'
    // A connection that takes longer to send a complete request, or to
    // take a reply, is closed.
    std::chrono::milliseconds idle_timeout{5000};
    // Connections open at once; the server raises the process's soft limit
    // on open files to fit them (see descriptor_limit.hpp).
    std::size_t max_clients = 1024;
};

struct ControlServerStats {
    std::uint64_t connections = 0; // accepted and served
    std::uint64_t refused = 0;     // turned away: max_clients were open
    std::uint64_t timed_out = 0;   // closed after idle_timeout
    std::uint64_t requests = 0;    // complete request lines, and too long ones
    std::uint64_t errors = 0;      // error replies the server made itself
    std::uint64_t denied = 0;      // of those, permission refusals
};

class ControlServer {
  public:
    // Raises the soft limit on open files for max_clients connections (a
    // warning when the hard limit keeps it lower), creates the socket's
    // directory if missing (0755), replaces a stale
    // socket file, binds, makes the file mode 0660 and group
    // `options.group`, listens and starts accepting. Throws
    // std::runtime_error saying what to do: another process answers on the
    // socket, something else is at its path, the group is unknown, a
    // syscall failed. `handler` must outlive the server.
    ControlServer(boost::asio::io_context& io, ControlServerOptions options,
                  ControlHandler& handler);
    // stop()s.
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Closes the listening socket and every connection (a request being
    // answered gets no reply) and removes the socket file if it is still
    // ours. Idempotent; the handler is not called afterwards, even from
    // inside handle().
    void stop();
    ControlServerStats stats() const;

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace exim_ban
