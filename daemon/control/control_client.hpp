// exim-banctl's end of the control socket: one request, one reply, blocking,
// within a time limit.
#pragma once

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace exim_ban {

// The daemon cannot be reached: no socket file, nothing answers on it
// (connection refused), or no reply within the time limit. The message says
// which and names the socket. exim-banctl exits 3 on it.
class ControlUnreachable : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Sends `request` as one line on `socket` and returns the reply object.
// `timeout` bounds the whole call (connect, send, reply). Throws
// ControlUnreachable as above, and std::runtime_error when the socket
// refuses this user (permission denied), the daemon closes the connection
// without a reply, or the reply is not a JSON object.
nlohmann::json control_call(const std::filesystem::path& socket, const nlohmann::json& request,
                            std::chrono::milliseconds timeout);

} // namespace exim_ban
