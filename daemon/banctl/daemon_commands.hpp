// exim-banctl's commands that talk to the running daemon over its control
// socket: status, list, show, ban, unban, reload, flush, stats and trust
// list|show|forget (trust_list, trust_show, trust_forget). Each sends
// one request and prints the reply as a table (or as it came, with --json).
#pragma once

#include <filesystem>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>

namespace exim_ban {

struct DaemonCommandOptions {
    std::string command;          // the control command: status, list, ..., trust_list
    std::string ip;               // show, ban, unban; empty: none given
    std::string jail;             // list, ban, unban; empty: none given
    std::string duration;         // ban's --for; empty: the jail's bantime
    bool all = false;             // unban --all
    std::filesystem::path socket; // empty: the one the config names
    std::filesystem::path config; // where to read `socket` from
    bool json = false;
    bool prometheus = false; // stats only
};

struct DaemonRequest {
    nlohmann::json request;  // {"cmd":...}; null when usage_error is set
    std::string usage_error; // why the command line is not sent; empty when it is
};

// The control request of `options`: "cmd", and "ip", "jail", "for" and
// "all" where given. A usage error when unban has neither an IP nor --all,
// or both, when trust show or forget has no IP, or trust list has one.
DaemonRequest daemon_request(const DaemonCommandOptions& options);

// Exit codes scripts can rely on.
inline constexpr int exit_ok = 0;
inline constexpr int exit_refused = 1; // the daemon answered {"ok":false}
inline constexpr int exit_usage = 2;
inline constexpr int exit_unreachable = 3; // no daemon answers on the socket

// Sends daemon_request(options) (a usage error is sent nowhere); prints to
// `out`, errors to `err`; returns one of the exit codes above.
int run_daemon_command(const DaemonCommandOptions& options, std::ostream& out, std::ostream& err);

} // namespace exim_ban
