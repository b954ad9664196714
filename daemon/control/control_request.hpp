// One request of the control socket's protocol and the replies' encoding:
// one JSON object per line each way. Pure: bytes in, a request or an error
// text out.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace exim_ban {

struct ControlRequest {
    std::string cmd;     // one of the known commands
    nlohmann::json body; // the whole request object, "cmd" included
};

// Either a request or the error text to send back; never both.
struct ParsedControlRequest {
    std::optional<ControlRequest> request;
    std::string error;
};

// Objects and arrays nested deeper than this are refused: handlers may
// copy, dump or walk a request recursively.
inline constexpr int max_request_depth = 32;

// `line`: one request without its '\n'. Fails when it is not JSON, not an
// object, nested deeper than max_request_depth, has no string "cmd", or names
// a command other than status, list, show, ban, unban, reload, flush, stats.
ParsedControlRequest parse_control_request(std::string_view line);

enum class Access { read, change };

// ban, unban, reload and flush change state; the others read. A command
// parse_control_request does not know counts as change (fails closed).
Access access_of(std::string_view cmd);

// {"ok":false,"error":text} as one line ending in '\n'.
std::string error_reply(std::string_view text);

// `reply` as one line ending in '\n'. Never throws: invalid UTF-8 in
// strings is replaced with U+FFFD.
std::string encode_reply(const nlohmann::json& reply);

} // namespace exim_ban
