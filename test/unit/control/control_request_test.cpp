#include "control/control_request.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace exim_ban;

namespace {

std::string error_of(std::string_view line) {
    const ParsedControlRequest parsed = parse_control_request(line);
    REQUIRE_FALSE(parsed.request);
    return parsed.error;
}

std::string nested(int levels) {
    return "{\"cmd\":\"list\",\"x\":" + std::string(levels - 1, '[') +
           std::string(levels - 1, ']') + "}";
}

} // namespace

TEST_CASE("control request: every known command parses with its whole body", "[control]") {
    for (const std::string cmd :
         {"status", "list", "show", "ban", "unban", "reload", "flush", "stats"}) {
        const ParsedControlRequest parsed =
            parse_control_request(R"({"cmd":")" + cmd + R"(","jail":"exim"})");
        REQUIRE(parsed.request);
        CHECK(parsed.error.empty());
        CHECK(parsed.request->cmd == cmd);
        CHECK(parsed.request->body == nlohmann::json{{"cmd", cmd}, {"jail", "exim"}});
    }
}

TEST_CASE("control request: each kind of malformed line has its own error", "[control]") {
    CHECK(error_of("").starts_with("request is not JSON (error at byte 1)"));
    CHECK(error_of("{\"cmd\":").starts_with("request is not JSON"));
    CHECK(error_of("status").starts_with("request is not JSON"));
    CHECK(error_of(R"({"cmd":"list"} {"cmd":"list"})").starts_with("request is not JSON"));
    CHECK(error_of("{\"cmd\":\"li\xff\"}").starts_with("request is not JSON"));
    CHECK(error_of(R"(["cmd","list"])") == "request is not a JSON object");
    CHECK(error_of(R"("list")") == "request is not a JSON object");
    CHECK(error_of(R"({"jail":"exim"})") == "request has no \"cmd\" string");
    CHECK(error_of(R"({"cmd":7})") == "request has no \"cmd\" string");
    CHECK(error_of(R"({"cmd":null})") == "request has no \"cmd\" string");
    CHECK(error_of(R"({"cmd":"shutdown"})") ==
          "unknown command \"shutdown\" (known: status, list, show, ban, unban, reload, flush, "
          "stats, trust_list, trust_show, trust_forget)");
    CHECK(error_of(R"({"cmd":"LIST"})").starts_with("unknown command \"LIST\""));
}

TEST_CASE("control request: an unknown command is echoed at most 40 bytes long", "[control]") {
    const std::string error = error_of(R"({"cmd":")" + std::string(1000, 'x') + R"("})");
    CHECK(error.starts_with("unknown command \"" + std::string(40, 'x') + "...\" (known:"));
}

TEST_CASE("control request: nesting deeper than the limit is refused", "[control]") {
    CHECK(parse_control_request(nested(max_request_depth)).request);
    CHECK(error_of(nested(max_request_depth + 1)) == "request is nested more than 32 levels deep");
    // 60 KiB of '[': refused without recursion or a deep value.
    CHECK(error_of(nested(30000)) == "request is nested more than 32 levels deep");
}

TEST_CASE("control request: state-changing commands and reads", "[control]") {
    for (const char* cmd : {"ban", "unban", "reload", "flush", "trust_forget"})
        CHECK(access_of(cmd) == Access::change);
    for (const char* cmd : {"status", "list", "show", "stats", "trust_list", "trust_show"})
        CHECK(access_of(cmd) == Access::read);
    CHECK(access_of("shutdown") == Access::change);
}

TEST_CASE("control request: replies are one line, whatever their strings hold", "[control]") {
    CHECK(error_reply("bad \"x\"\nsecond line") ==
          "{\"error\":\"bad \\\"x\\\"\\nsecond line\",\"ok\":false}\n");
    CHECK(encode_reply({{"ok", true}, {"bans", {1, 2}}}) == "{\"bans\":[1,2],\"ok\":true}\n");
    // Invalid UTF-8 from a log line must not throw on the running path.
    CHECK(encode_reply({{"ok", true}, {"line", "caf\xe9"}}) ==
          "{\"line\":\"caf\xef\xbf\xbd\",\"ok\":true}\n");
}

TEST_CASE("control request: a number past double's range is refused, not thrown (fuzz)",
          "[control]") {
    for (const char* line : {"794.6e44550", R"({"cmd":"status","n":1e999})"}) {
        const auto parsed = parse_control_request(line);
        CHECK_FALSE(parsed.request);
        CHECK(parsed.error == "request holds a value out of range (a number too large?)");
    }
}
