// exim-band: the daemon. Wiring only: the service lives in band/.
#include "band/band_service.hpp"
#include "band/log_setup.hpp"
#include "config/config_loader.hpp"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace {

int run(int argc, char** argv) {
    CLI::App app{"exim-band: bans the hosts that abuse Exim, in nftables, as its log shows them"};
    app.set_version_flag("--version", std::string("exim-band ") + EXIM_BAN_VERSION);
    exim_ban::BandOptions options;
    std::string config = exim_ban::default_config_file;
    bool foreground = false;
    bool check = false;
    app.add_option("-c,--config", config, "the config file")->capture_default_str();
    app.add_flag(
        "-f,--foreground", foreground,
        "stay in the foreground and log to the terminal (under systemd it never detaches)");
    CLI::Option* check_flag = app.add_flag(
        "--check", check, "load and check the config and its filters, then exit (0: good, 1: not)");
    app.add_flag("--dry-run", options.dry_run,
                 "log the bans the firewall would get; touch no firewall (needs no root)");
    app.add_flag("--rebuild-db", options.rebuild_db,
                 "a database that fails to open as damaged is moved aside (timestamped) and made "
                 "anew from the logs; an intact one stays")
        ->excludes(check_flag);
    app.add_option("--journal-directory", options.journal_directory,
                   "jails with logpath = journal read the journal files in this directory "
                   "instead of the system journal (for tests and containers)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        const int code = app.exit(error);
        return code == 0 ? 0 : 2;
    }

    std::error_code error;
    options.config = std::filesystem::absolute(config, error);
    if (error)
        options.config = config;
    try {
        if (check) {
            exim_ban::setup_logging(exim_ban::LogTarget::terminal);
            std::cout << exim_ban::check_band_config(options.config) << '\n';
            return 0;
        }
        exim_ban::LogTarget target = exim_ban::detect_log_target();
        // Under systemd (Type=notify) the service must not fork; by hand,
        // without --foreground, it detaches once the config is known good.
        const bool detach = !foreground && target == exim_ban::LogTarget::terminal &&
                            std::getenv("NOTIFY_SOCKET") == nullptr;
        if (detach) {
            exim_ban::setup_logging(exim_ban::LogTarget::terminal);
            exim_ban::check_band_config(options.config);
            if (::daemon(0, 0) != 0) {
                std::cerr << "exim-band: cannot detach: " << std::strerror(errno) << '\n';
                return 1;
            }
            target = exim_ban::LogTarget::syslog;
        }
        exim_ban::setup_logging(target);
        exim_ban::BandService service(options);
        return service.run();
    } catch (const std::exception& failure) {
        // A StartupError, or what no start-up step expects (memory, a
        // library's own failure): said once, never std::terminate's abort.
        spdlog::error("{}", failure.what());
        if (check)
            std::cerr << "exim-band: " << failure.what() << '\n';
        return 1;
    }
}

} // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& failure) {
        // Only the command line's own set-up can get here (run() reports
        // every start-up failure itself): said once, never an abort.
        std::cerr << "exim-band: " << failure.what() << '\n';
        return 1;
    }
}
