#include "banctl/daemon_commands.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using nlohmann::json;

namespace {

DaemonCommandOptions command(std::string name) {
    DaemonCommandOptions options;
    options.command = std::move(name);
    return options;
}

} // namespace

TEST_CASE("a daemon command's request carries what was given, nothing else", "[banctl]") {
    CHECK(daemon_request(command("status")).request == json{{"cmd", "status"}});

    DaemonCommandOptions ban = command("ban");
    ban.ip = "192.0.2.7";
    ban.jail = "exim";
    ban.duration = "1h";
    ban.json = true;
    ban.socket = "/run/x.sock";
    const DaemonRequest request = daemon_request(ban);
    CHECK(request.usage_error.empty());
    CHECK(request.request ==
          json{{"cmd", "ban"}, {"ip", "192.0.2.7"}, {"jail", "exim"}, {"for", "1h"}});

    DaemonCommandOptions unban_all = command("unban");
    unban_all.all = true;
    CHECK(daemon_request(unban_all).request == json{{"cmd", "unban"}, {"all", true}});
}

TEST_CASE("unban needs exactly one of an IP and --all", "[banctl]") {
    DaemonCommandOptions neither = command("unban");
    DaemonCommandOptions both = command("unban");
    both.ip = "2001:db8::1";
    both.all = true;
    for (const DaemonCommandOptions& options : {neither, both}) {
        const DaemonRequest request = daemon_request(options);
        CHECK(request.usage_error == "unban needs an IP or --all");
        CHECK(request.request.is_null());
    }
    DaemonCommandOptions one = command("unban");
    one.ip = "2001:db8::1";
    CHECK(daemon_request(one).usage_error.empty());
}

TEST_CASE("a usage error is reported without reaching for a socket", "[banctl]") {
    DaemonCommandOptions options = command("unban");
    options.socket = "/nonexistent/control.sock";
    std::ostringstream out;
    std::ostringstream err;
    CHECK(run_daemon_command(options, out, err) == exit_usage);
    CHECK(out.str().empty());
    CHECK(err.str() == "exim-banctl: unban needs an IP or --all\n");
}

TEST_CASE("trust show and forget need an IP; trust list takes none", "[banctl][trust]") {
    CHECK(daemon_request(command("trust_show")).usage_error == "trust show needs an IP");
    CHECK(daemon_request(command("trust_forget")).usage_error == "trust forget needs an IP");
    DaemonCommandOptions listed = command("trust_list");
    listed.jail = "exim";
    CHECK(daemon_request(listed).request == json{{"cmd", "trust_list"}, {"jail", "exim"}});
    listed.ip = "192.0.2.7";
    CHECK_FALSE(daemon_request(listed).usage_error.empty());
    DaemonCommandOptions shown = command("trust_show");
    shown.ip = "192.0.2.7";
    CHECK(daemon_request(shown).request == json{{"cmd", "trust_show"}, {"ip", "192.0.2.7"}});
}
