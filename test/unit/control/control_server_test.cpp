// The ControlServer on a real socket with real clients; see
// control_fixture.hpp.
#include "control/control_client.hpp"
#include "control/control_server.hpp"
#include "control_fixture.hpp"

#include <catch2/catch.hpp>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace exim_ban;
using namespace exim_ban::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> all_commands = {"status", "list",   "show",  "ban",
                                               "unban",  "reload", "flush", "stats"};

std::string request_line(const std::string& cmd) {
    return json{{"cmd", cmd}}.dump() + "\n";
}

bool running_as_root() {
    return ::geteuid() == 0;
}

// Sends `request` with control_call from a child process running as uid
// 65534 and `gid` (no supplementary groups), while the test thread serves;
// returns the reply, or "exception: <what>".
std::string call_as_nobody(ControlFixture& fixture, gid_t gid, const json& request) {
    int pipe_ends[2];
    REQUIRE(::pipe2(pipe_ends, O_CLOEXEC) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // Only async-signal-safe calls until the identity is dropped; the
        // call itself runs in a single-threaded child.
        ::close(pipe_ends[0]);
        if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
            ::setresuid(65534, 65534, 65534) != 0)
            ::_exit(2);
        std::string result;
        try {
            result = control_call(fixture.socket, request, std::chrono::seconds(5)).dump();
        } catch (const std::exception& error) {
            result = std::string("exception: ") + error.what();
        }
        const bool written = ::write(pipe_ends[1], result.data(), result.size()) ==
                             static_cast<ssize_t>(result.size());
        ::_exit(written ? 0 : 3);
    }
    REQUIRE(::close(pipe_ends[1]) == 0);
    REQUIRE(::fcntl(pipe_ends[0], F_SETFL, O_NONBLOCK) == 0);
    std::string result;
    bool ended = false;
    const bool done = fixture.run_until([&] {
        char chunk[4096];
        ssize_t got = 0;
        while ((got = ::read(pipe_ends[0], chunk, sizeof chunk)) > 0)
            result.append(chunk, static_cast<std::size_t>(got));
        ended = got == 0;
        return ended;
    });
    REQUIRE(::close(pipe_ends[0]) == 0);
    if (!done)
        ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(done);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return result;
}

} // namespace

TEST_CASE("control server: every command reaches the handler, answered in order on one "
          "connection",
          "[control]") {
    ControlFixture fixture;
    RawClient client = fixture.start_and_connect();
    for (const auto& cmd : all_commands) {
        fixture.send(client, json{{"cmd", cmd}, {"jail", "exim"}}.dump() + "\n");
        const std::string line = fixture.reply(client);
        CHECK(line.find('\n') == line.size() - 1);
        const json reply = json::parse(line);
        if (access_of(cmd) == Access::change && !running_as_root()) {
            CHECK(reply["error"].get<std::string>().starts_with("permission denied"));
            continue;
        }
        CHECK(reply ==
              json{{"ok", true}, {"cmd", cmd}, {"body", {{"cmd", cmd}, {"jail", "exim"}}}});
    }
    if (running_as_root())
        CHECK(fixture.handler.requests.size() == all_commands.size());
    CHECK(fixture.server->stats().requests == all_commands.size());
    CHECK(fixture.server->stats().connections == 1);
}

TEST_CASE("control server: requests sent in one write are answered one by one, in order",
          "[control]") {
    ControlFixture fixture;
    RawClient client = fixture.start_and_connect();
    fixture.send(client, request_line("status") + "nonsense\n" + request_line("stats") +
                             request_line("list"));
    CHECK(fixture.reply_json(client)["cmd"] == "status");
    CHECK(fixture.reply_json(client)["ok"] == false);
    CHECK(fixture.reply_json(client)["cmd"] == "stats");
    CHECK(fixture.reply_json(client)["cmd"] == "list");
}

TEST_CASE("control server: a reply made later is sent when it comes, and the next request "
          "waits for it",
          "[control]") {
    ControlFixture fixture;
    fixture.start_idling_out_after(std::chrono::milliseconds(200));
    RawClient client(fixture.socket);
    fixture.send(client,
                 json{{"cmd", "list"}, {"later", true}}.dump() + "\n" + request_line("status"));
    // Longer than the idle timeout: the handler's own work is not the
    // client's idling.
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(400);
    fixture.run_until([&] { return std::chrono::steady_clock::now() >= until; });
    CHECK(fixture.server->stats().timed_out == 0);
    CHECK(fixture.handler.requests.size() == 1);
    REQUIRE(fixture.handler.waiting.size() == 1);
    fixture.handler.waiting.front()();
    CHECK(fixture.reply_json(client)["cmd"] == "list");
    CHECK(fixture.reply_json(client)["cmd"] == "status");
}

TEST_CASE("control server: a reply made later for a connection that is gone goes nowhere",
          "[control]") {
    ControlFixture fixture;
    fixture.start();
    {
        RawClient client(fixture.socket);
        fixture.send(client, json{{"cmd", "list"}, {"later", true}}.dump() + "\n");
        REQUIRE(fixture.run_until([&] { return !fixture.handler.waiting.empty(); }));
    }
    fixture.server->stop();
    fixture.handler.waiting.front()();
    CHECK(fixture.server->stats().requests == 1);
    CHECK(fixture.server->stats().errors == 0);
}

TEST_CASE("control server: a reply is one line whatever the handler puts in it", "[control]") {
    ControlFixture fixture;
    RawClient client = fixture.start_and_connect();
    fixture.send(client, R"({"cmd":"show","ip":"a\nb\u2028c"})"
                         "\n");
    const std::string line = fixture.reply(client);
    CHECK(line.find('\n') == line.size() - 1);
    CHECK(json::parse(line)["body"]["ip"] == "a\nb\u2028c");
}

TEST_CASE("control server: a malformed line is answered and the connection kept", "[control]") {
    ControlFixture fixture;
    RawClient client = fixture.start_and_connect();
    fixture.send(client, "{\"cmd\":\n");
    json reply = fixture.reply_json(client);
    CHECK(reply["ok"] == false);
    CHECK(reply["error"].get<std::string>().starts_with("request is not JSON"));
    fixture.send(client, "{\"cmd\":\"halt\"}\n");
    CHECK(fixture.reply_json(client)["error"].get<std::string>().starts_with(
        "unknown command \"halt\""));
    fixture.send(client, request_line("status"));
    CHECK(fixture.reply_json(client)["ok"] == true);
    CHECK(fixture.handler.requests.size() == 1);
    CHECK(fixture.server->stats().errors == 2);
}

TEST_CASE("control server: an oversized request is refused and the connection closed",
          "[control]") {
    ControlFixture fixture;
    RawClient client = fixture.start_and_connect();
    std::string unsent(70 * 1024, 'x');
    // The server stops reading at the limit and closes: the rest of the
    // 70 KiB may not be taken.
    REQUIRE(fixture.run_until([&] { return !client.push(unsent) || unsent.empty(); }));
    CHECK(fixture.reply_json(client) ==
          json{{"ok", false}, {"error", "request too long (more than 65536 bytes)"}});
    CHECK(fixture.closed(client));
    CHECK(fixture.handler.requests.empty());
}

TEST_CASE("control server: a request of exactly max_request_bytes is served, one more byte "
          "is not",
          "[control]") {
    ControlFixture fixture;
    auto options = fixture.options();
    options.max_request_bytes = 100;
    fixture.start(options);
    const auto padded = [](std::size_t bytes) {
        std::string line = R"({"cmd":"status","pad":""})";
        line.insert(line.size() - 2, bytes - line.size(), 'p');
        return line;
    };
    RawClient client(fixture.socket);
    fixture.send(client, padded(100) + "\n");
    CHECK(fixture.reply_json(client)["ok"] == true);
    fixture.send(client, padded(101) + "\n");
    CHECK(fixture.reply_json(client)["error"] == "request too long (more than 100 bytes)");
    CHECK(fixture.closed(client));
}

TEST_CASE("control server: a slowloris client is closed after the idle timeout while "
          "others are served",
          "[control]") {
    ControlFixture fixture;
    fixture.start_idling_out_after(std::chrono::milliseconds(200));
    RawClient slow(fixture.socket);
    fixture.send(slow, "{\"cmd\":");
    RawClient other(fixture.socket);
    fixture.send(other, request_line("status"));
    CHECK(fixture.reply_json(other)["ok"] == true);
    CHECK(fixture.closed(slow));
    CHECK(slow.received().empty());
    CHECK(fixture.server->stats().timed_out >= 1);
}

TEST_CASE("control server: a request trickled byte by byte does not reset the idle timeout",
          "[control]") {
    ControlFixture fixture;
    fixture.start_idling_out_after(std::chrono::milliseconds(200));
    RawClient slow(fixture.socket);
    // 3.5 s at the pace below: longer than the timeout, shorter than the
    // test's 5 s.
    const std::string request = R"({"cmd":"status","pad":")" + std::string(150, 'p') + "\"}\n";
    std::size_t sent = 0;
    auto next = std::chrono::steady_clock::now();
    // One byte each 20 ms: progress, but no complete request in time.
    CHECK(fixture.run_until([&] {
        if (slow.drain())
            return true;
        if (std::chrono::steady_clock::now() >= next && sent < request.size()) {
            std::string byte = request.substr(sent++, 1);
            slow.push(byte);
            next += std::chrono::milliseconds(20);
        }
        return false;
    }));
    CHECK(slow.received().empty());
    CHECK(fixture.handler.requests.empty());
}

TEST_CASE("control server: 100 concurrent clients are all answered", "[control]") {
    ControlFixture fixture;
    fixture.start();
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < 100; ++i) {
        clients.push_back(std::make_unique<RawClient>(fixture.socket));
        std::string line = json{{"cmd", "show"}, {"n", i}}.dump() + "\n";
        REQUIRE(clients.back()->push(line));
        REQUIRE(line.empty());
    }
    for (int i = 0; i < 100; ++i)
        CHECK(fixture.reply_json(*clients[static_cast<std::size_t>(i)])["body"]["n"] == i);
    CHECK(fixture.server->stats().connections == 100);
    CHECK(fixture.server->stats().refused == 0);
}

TEST_CASE("control server: one client more than max_clients is refused and closed", "[control]") {
    ControlFixture fixture;
    auto options = fixture.options();
    options.max_clients = 4;
    fixture.start(options);
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < 4; ++i)
        clients.push_back(std::make_unique<RawClient>(fixture.socket));
    REQUIRE(fixture.run_until([&] { return fixture.server->stats().connections == 4; }));
    RawClient extra(fixture.socket);
    CHECK(fixture.reply_json(extra) == json{{"ok", false}, {"error", "too many clients"}});
    CHECK(fixture.closed(extra));
    CHECK(fixture.server->stats().refused == 1);
    for (auto& client : clients) {
        fixture.send(*client, request_line("status"));
        CHECK(fixture.reply_json(*client)["ok"] == true);
    }
    // A closed connection frees its place.
    clients.front()->close();
    RawClient next(fixture.socket);
    fixture.send(next, request_line("status"));
    CHECK(fixture.reply_json(next)["ok"] == true);
}

TEST_CASE("control server: a peer that leaves mid-way is dropped and frees its place",
          "[control]") {
    ControlFixture fixture;
    auto options = fixture.options();
    options.max_clients = 1;
    fixture.start(options);
    // Until the server has seen the last peer leave, a new one is refused:
    // ask again until served.
    const auto served = [&] {
        return fixture.run_until([&] {
            RawClient client(fixture.socket);
            std::string line = request_line("status");
            client.push(line);
            std::optional<std::string> reply;
            fixture.run_until([&] { return (reply = client.take_line()).has_value(); });
            return reply && json::parse(*reply)["ok"] == true;
        });
    };
    {
        RawClient partial(fixture.socket);
        fixture.send(partial, "{\"cmd\":\"sta");
        REQUIRE(fixture.run_until([&] { return fixture.server->stats().connections == 1; }));
    }
    CHECK(served());
    {
        // Gone before its reply is written.
        RawClient hasty(fixture.socket);
        fixture.send(hasty, request_line("status"));
    }
    CHECK(served());
}

TEST_CASE("control server: a handler's exception becomes an error reply", "[control]") {
    ControlFixture fixture;
    RawClient client = fixture.start_and_connect();
    fixture.send(client, R"({"cmd":"status","fail":"store is locked"})"
                         "\n");
    CHECK(fixture.reply_json(client) ==
          json{{"ok", false}, {"error", "status failed: store is locked"}});
    fixture.send(client, request_line("status"));
    CHECK(fixture.reply_json(client)["ok"] == true);
    CHECK(fixture.server->stats().errors == 1);
}

TEST_CASE("control server: the socket file is mode 0660 and the control group's", "[control]") {
    ControlFixture fixture;
    auto options = fixture.options();
    // Root may give the socket to any group; others to their own.
    const gid_t expected = running_as_root() ? 4 : ::getegid();
    const group* entry = ::getgrgid(expected);
    REQUIRE(entry != nullptr);
    options.group = entry->gr_name;
    fixture.start(options);
    struct stat status {};
    REQUIRE(::lstat(fixture.socket.c_str(), &status) == 0);
    CHECK(S_ISSOCK(status.st_mode));
    CHECK((status.st_mode & 07777) == 0660);
    CHECK(status.st_gid == expected);
    REQUIRE(::lstat(fixture.socket.parent_path().c_str(), &status) == 0);
    CHECK((status.st_mode & 07777) == 0755);
}

TEST_CASE("control server: an unknown group stops the start", "[control]") {
    ControlFixture fixture;
    auto options = fixture.options();
    options.group = "no-such-group-exim-ban";
    CHECK_THROWS_WITH(fixture.start(options), Catch::Contains("does not exist"));
    CHECK_FALSE(fs::exists(fixture.socket));
}

TEST_CASE("control server: a stale socket file is replaced", "[control]") {
    ControlFixture fixture;
    fixture.start();
    fixture.server.reset();
    // A killed daemon leaves its socket file behind.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    fixture.socket.native().copy(address.sun_path, sizeof address.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::close(fd) == 0);
    REQUIRE(fs::is_socket(fixture.socket));
    RawClient client = fixture.start_and_connect();
    fixture.send(client, request_line("status"));
    CHECK(fixture.reply_json(client)["ok"] == true);
}

TEST_CASE("control server: a second server on a live socket is refused", "[control]") {
    ControlFixture fixture;
    fixture.start();
    boost::asio::io_context other_io;
    EchoHandler other_handler;
    CHECK_THROWS_WITH(ControlServer(other_io, fixture.options(), other_handler),
                      Catch::Contains("answers on") && Catch::Contains("stop it first"));
    RawClient client(fixture.socket);
    fixture.send(client, request_line("status"));
    CHECK(fixture.reply_json(client)["ok"] == true);
}

TEST_CASE("control server: stop closes every connection and removes the socket file", "[control]") {
    ControlFixture fixture;
    fixture.start();
    RawClient idle(fixture.socket);
    RawClient partial(fixture.socket);
    fixture.send(partial, "{\"cmd\"");
    REQUIRE(fixture.run_until([&] { return fixture.server->stats().connections == 2; }));
    fixture.server->stop();
    CHECK_FALSE(fs::exists(fixture.socket));
    CHECK(fixture.closed(idle));
    CHECK(fixture.closed(partial));
    fixture.server->stop();
    // What was queued for the server runs after it is gone, harmlessly.
    fixture.server.reset();
    fixture.io.restart();
    fixture.io.run_for(std::chrono::milliseconds(50));
}

TEST_CASE("control server: a handler may destroy the server while answering", "[control]") {
    ControlFixture fixture;
    fixture.handler.during = [&](const ControlRequest&) { fixture.server.reset(); };
    fixture.start();
    RawClient asking(fixture.socket);
    RawClient waiting(fixture.socket);
    fixture.send(waiting, "{\"cmd\":");
    fixture.send(asking, request_line("status"));
    CHECK(fixture.closed(asking));
    CHECK(asking.received().empty());
    CHECK(fixture.closed(waiting));
    CHECK_FALSE(fs::exists(fixture.socket));
}

TEST_CASE("control server: a peer that is not root may read with the group, never change",
          "[control]") {
    if (!running_as_root()) {
        WARN("not root: the refusal of another uid is covered by the access_policy tests");
        return;
    }
    ControlFixture fixture;
    auto options = fixture.options();
    options.group = "nogroup";
    const group* nogroup = ::getgrnam("nogroup");
    REQUIRE(nogroup != nullptr);
    fixture.start(options);
    CHECK(call_as_nobody(fixture, nogroup->gr_gid, {{"cmd", "list"}}) ==
          json{{"ok", true}, {"cmd", "list"}, {"body", {{"cmd", "list"}}}}.dump());
    CHECK(call_as_nobody(fixture, nogroup->gr_gid, {{"cmd", "ban"}, {"ip", "192.0.2.1"}}) ==
          json{{"ok", false},
               {"error", "permission denied: \"ban\" changes state and needs root; you are uid "
                         "65534"}}
              .dump());
    CHECK(fixture.handler.requests.size() == 1);
    CHECK(fixture.server->stats().denied == 1);
}

TEST_CASE("control server: a peer outside the control group may not read", "[control]") {
    if (!running_as_root()) {
        WARN("not root: the refusal of another uid is covered by the access_policy tests");
        return;
    }
    ControlFixture fixture;
    fixture.start(); // the group: root's own
    // The file's mode keeps such a peer out already; opened up here so the
    // daemon's own check is what refuses.
    REQUIRE(::chmod(fixture.socket.c_str(), 0666) == 0);
    CHECK(call_as_nobody(fixture, 65534, {{"cmd", "list"}}) ==
          json{{"ok", false},
               {"error", "permission denied: \"list\" needs root or group root; you are uid "
                         "65534"}}
              .dump());
    CHECK(fixture.handler.requests.empty());
}
