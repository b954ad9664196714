// control_call against a real ControlServer (the call in a thread, the
// server in the test thread) and against bare sockets that misbehave.
#include "control/control_client.hpp"
#include "control/socket_file.hpp"
#include "control_fixture.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <poll.h>
#include <thread>

using namespace exim_ban;
using namespace exim_ban::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A socket bound and listening at `path` that accepts nothing by itself.
class BareListener {
  public:
    explicit BareListener(const fs::path& path) {
        fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        const sockaddr_un address = unix_socket_address(path);
        REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
        REQUIRE(::listen(fd_, 8) == 0);
    }
    ~BareListener() { ::close(fd_); }
    BareListener(const BareListener&) = delete;
    BareListener& operator=(const BareListener&) = delete;

    // Accepts one connection (within 5 s), reads its request line, writes
    // `answer` and closes.
    void answer_once(const std::string& answer) {
        pollfd polled{fd_, POLLIN, 0};
        REQUIRE(::poll(&polled, 1, 5000) == 1);
        const int connection = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        REQUIRE(connection >= 0);
        std::string request;
        char byte = 0;
        while (request.find('\n') == std::string::npos && ::read(connection, &byte, 1) == 1)
            request += byte;
        CHECK(request == "{\"cmd\":\"status\"}\n");
        REQUIRE(::write(connection, answer.data(), answer.size()) ==
                static_cast<ssize_t>(answer.size()));
        REQUIRE(::close(connection) == 0);
    }

  private:
    int fd_ = -1;
};

// control_call in a thread; its outcome: the reply, or the exception.
struct CallInThread {
    CallInThread(fs::path socket, json request) {
        thread = std::thread([this, socket = std::move(socket), request = std::move(request)] {
            try {
                reply = control_call(socket, request, std::chrono::seconds(5));
            } catch (...) {
                failure = std::current_exception();
            }
            done = true;
        });
    }
    ~CallInThread() { wait(); }
    CallInThread(const CallInThread&) = delete;
    CallInThread& operator=(const CallInThread&) = delete;

    void wait() {
        if (thread.joinable())
            thread.join();
    }
    // The exception's message; fails the test when the call succeeded.
    std::string failure_text() {
        wait();
        REQUIRE(failure);
        try {
            std::rethrow_exception(failure);
        } catch (const ControlUnreachable& error) {
            return std::string("unreachable: ") + error.what();
        } catch (const std::exception& error) {
            return error.what();
        }
    }

    json reply;
    std::exception_ptr failure;
    std::atomic<bool> done{false};
    std::thread thread;
};

const json status = {{"cmd", "status"}};

} // namespace

TEST_CASE("control client: one request, the daemon's reply", "[control]") {
    ControlFixture fixture;
    fixture.start();
    CallInThread call(fixture.socket, {{"cmd", "show"}, {"ip", "192.0.2.7"}});
    REQUIRE(fixture.run_until([&] { return call.done.load(); }));
    REQUIRE_FALSE(call.failure);
    CHECK(call.reply ==
          json{{"ok", true}, {"cmd", "show"}, {"body", {{"cmd", "show"}, {"ip", "192.0.2.7"}}}});
}

TEST_CASE("control client: the daemon's refusals come back as replies", "[control]") {
    ControlFixture fixture;
    fixture.start();
    CallInThread call(fixture.socket, {{"cmd", "halt"}});
    REQUIRE(fixture.run_until([&] { return call.done.load(); }));
    REQUIRE_FALSE(call.failure);
    CHECK(call.reply["ok"] == false);
    CHECK(call.reply["error"].get<std::string>().starts_with("unknown command \"halt\""));
}

TEST_CASE("control client: no socket file is unreachable", "[control]") {
    TempDir dir;
    const fs::path path = dir / "control.sock";
    CHECK_THROWS_MATCHES(control_call(path, status, std::chrono::milliseconds(200)),
                         ControlUnreachable,
                         Catch::Message("no control socket at \"" + path.string() +
                                        "\": is exim-band running? (--socket or --config "
                                        "names another)"));
    CHECK_THROWS_AS(control_call(dir / "missing/control.sock", status, std::chrono::seconds(1)),
                    ControlUnreachable);
}

TEST_CASE("control client: a stale socket file is unreachable", "[control]") {
    TempDir dir;
    const fs::path path = dir / "control.sock";
    { BareListener gone(path); }
    CHECK_THROWS_MATCHES(control_call(path, status, std::chrono::milliseconds(200)),
                         ControlUnreachable,
                         Catch::Message("connection refused on \"" + path.string() +
                                        "\": exim-band is not running (the socket file is "
                                        "stale)"));
}

TEST_CASE("control client: a daemon that does not answer in time is unreachable", "[control]") {
    TempDir dir;
    const fs::path path = dir / "control.sock";
    BareListener silent(path);
    const auto started = std::chrono::steady_clock::now();
    CHECK_THROWS_MATCHES(
        control_call(path, status, std::chrono::milliseconds(200)), ControlUnreachable,
        Catch::Message("exim-band did not answer on \"" + path.string() + "\" within 200 ms"));
    CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(200));
}

TEST_CASE("control client: a reply that is not a JSON object is an error", "[control]") {
    TempDir dir;
    const fs::path path = dir / "control.sock";
    BareListener odd(path);
    const std::string at = "exim-band's reply on \"" + path.string() + "\"";
    {
        CallInThread call(path, status);
        odd.answer_once("hello\n");
        CHECK(call.failure_text().starts_with(at + " is not JSON: "));
    }
    {
        CallInThread call(path, status);
        odd.answer_once("[1,2]\n");
        CHECK(call.failure_text() == at + " is not a JSON object");
    }
    {
        CallInThread call(path, status);
        odd.answer_once("");
        CHECK(call.failure_text() ==
              "exim-band closed the connection on \"" + path.string() + "\" without a reply");
    }
}
