// exim-banctl's commands that talk to the running daemon over its control
// socket: status, list, show, ban, unban, reload, flush, stats. Each sends
// one request and prints the reply as a table (or as it came, with --json).
#pragma once

#include <filesystem>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>

namespace exim_ban {

struct DaemonCommandOptions {
    std::filesystem::path socket; // empty: the one the config names
    std::filesystem::path config; // where to read `socket` from
    bool json = false;
    bool prometheus = false; // stats only
};

// Exit codes scripts can rely on.
inline constexpr int exit_ok = 0;
inline constexpr int exit_refused = 1; // the daemon answered {"ok":false}
inline constexpr int exit_usage = 2;
inline constexpr int exit_unreachable = 3; // no daemon answers on the socket

// `request`: the control request ({"cmd":...}); prints to `out`, errors to
// `err`; returns one of the exit codes above.
int run_daemon_command(const DaemonCommandOptions& options, const nlohmann::json& request,
                       std::ostream& out, std::ostream& err);

} // namespace exim_ban
