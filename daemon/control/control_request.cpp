#include "control/control_request.hpp"

#include <algorithm>
#include <array>

namespace exim_ban {
namespace {

constexpr std::array<std::string_view, 11> known_commands = {
    "status", "list",  "show",       "ban",        "unban",       "reload",
    "flush",  "stats", "trust_list", "trust_show", "trust_forget"};
constexpr std::array<std::string_view, 5> changing_commands = {"ban", "unban", "reload", "flush",
                                                               "trust_forget"};

// An unknown command is echoed back; a client's 60 KiB of it is not.
constexpr std::size_t max_echoed_bytes = 40;

bool contains(const auto& list, std::string_view cmd) {
    return std::find(list.begin(), list.end(), cmd) != list.end();
}

std::string known_list() {
    std::string list;
    for (const auto cmd : known_commands)
        list += (list.empty() ? "" : ", ") + std::string(cmd);
    return list;
}

} // namespace

ParsedControlRequest parse_control_request(std::string_view line) {
    bool too_deep = false;
    // The parser itself is iterative; the depth is checked while parsing so
    // that a deep value is never built, let alone handed to a handler.
    const nlohmann::json::parser_callback_t limit_depth =
        [&too_deep](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
            if ((event == nlohmann::json::parse_event_t::object_start ||
                 event == nlohmann::json::parse_event_t::array_start) &&
                depth >= max_request_depth)
                too_deep = true;
            return !too_deep;
        };
    nlohmann::json body;
    try {
        body = nlohmann::json::parse(line, limit_depth);
    } catch (const nlohmann::json::parse_error& error) {
        return {std::nullopt, "request is not JSON (error at byte " + std::to_string(error.byte) +
                                  "); send one JSON object per line, e.g. {\"cmd\":\"status\"}"};
    } catch (const nlohmann::json::exception&) {
        // Valid JSON the library cannot hold, such as a number past double's
        // range (found by test/fuzz): refused like any bad request.
        return {std::nullopt, "request holds a value out of range (a number too large?)"};
    }
    if (too_deep)
        return {std::nullopt, "request is nested more than " + std::to_string(max_request_depth) +
                                  " levels deep"};
    if (!body.is_object())
        return {std::nullopt, "request is not a JSON object"};
    const auto cmd = body.find("cmd");
    if (cmd == body.end() || !cmd->is_string())
        return {std::nullopt, "request has no \"cmd\" string"};
    const auto& name = cmd->get_ref<const std::string&>();
    if (!contains(known_commands, name))
        return {std::nullopt, "unknown command \"" + name.substr(0, max_echoed_bytes) +
                                  (name.size() > max_echoed_bytes ? "...\"" : "\"") +
                                  " (known: " + known_list() + ")"};
    std::string cmd_name = name;
    return {ControlRequest{std::move(cmd_name), std::move(body)}, {}};
}

Access access_of(std::string_view cmd) {
    if (contains(known_commands, cmd) && !contains(changing_commands, cmd))
        return Access::read;
    return Access::change;
}

std::string error_reply(std::string_view text) {
    return encode_reply({{"ok", false}, {"error", text}});
}

std::string encode_reply(const nlohmann::json& reply) {
    // No indentation: a newline inside a string is escaped, so the reply is
    // one line whatever the handler put in it.
    return reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + '\n';
}

} // namespace exim_ban
