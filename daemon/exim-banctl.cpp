// exim-banctl: the admin's command line. Wiring only: each command lives in
// banctl/ (see its README.md).
#include "banctl/check_config_command.hpp"
#include "banctl/daemon_commands.hpp"
#include "banctl/import_command.hpp"
#include "banctl/nft_commands.hpp"
#include "banctl/test_command.hpp"
#include "config/config_loader.hpp"
#include "core/duration.hpp"
#include "core/ip_address.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

namespace {

int run(int argc, char** argv) {
    CLI::App app{"exim-banctl: inspect and steer exim-ban"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("exim-banctl ") + EXIM_BAN_VERSION);

    exim_ban::TestCommandOptions test;
    std::string filters_dir;
    auto* test_command = app.add_subcommand(
        "test",
        "Scan LOGFILE with a filter offline, like fail2ban-regex, or replay a jail's sources "
        "(no daemon, no root needed)");
    test_command->add_option("LOGFILE", test.log_path,
                             "log to scan ('-' for standard input); left out with --jail: every "
                             "file of the jail's sources, each through its filter");
    test_command->add_option(
        "FILTER", test.filter,
        "filter name with parameters (exim, exim[mode=more]) or path to a .conf/.patterns "
        "file (default: the jail's filter with --config/--jail, else exim)");
    test_command->add_option(
        "--filters-dir", filters_dir,
        "directory of filters (default /etc/exim-ban/filters.d, else the source tree's filters/)");
    test_command->add_flag("--print-missed", test.print_missed,
                           "print the lines no pattern matched");
    test_command->add_flag("--json", test.json,
                           "print one JSON object instead of the text summary");
    test_command->add_flag(
        "--bans", test.bans,
        "replay the hits through a jail's policy in log time and list the bans it would make");
    std::string test_config;
    test_command->add_option("--jail", test.jail,
                             "the jail of the config whose filter and policy to use");
    test_command->add_option(
        "--config", test_config,
        "exim-ban.conf to take the jail from (default /etc/exim-ban/exim-ban.conf with --jail)");

    std::string config_file = exim_ban::default_config_file;
    auto* check_config = app.add_subcommand(
        "check-config", "Validate exim-ban.conf and its filters, and print the effective settings");
    check_config->add_option("--config", config_file, "the config file")->capture_default_str();

    bool nft_list_json = false;
    auto* nft_list = app.add_subcommand(
        "nft-list", "Show the bans in the kernel (table inet exim_ban): jail, element, "
                    "time left, timeout, packets and bytes blocked (needs root, no daemon)");
    nft_list->add_flag("--json", nft_list_json, "print one JSON object");
    auto* nft_flush = app.add_subcommand(
        "nft-flush", "Delete table inet exim_ban and every ban in it, nothing else "
                     "(needs root; exim-band restores its active bans when it starts)");

    exim_ban::ImportOptions import;
    auto* import_command = app.add_subcommand(
        "import-fail2ban",
        "Move a fail2ban jail to exim-ban: its settings into conf.d/50-fail2ban.conf, its current "
        "bans and ban history into exim-ban's database (needs root)");
    import_command
        ->add_option("DBFILE", import.database, "fail2ban's database (fail2ban.conf's dbfile)")
        ->capture_default_str();
    import_command
        ->add_option("--jail-conf", import.jail_conf,
                     "fail2ban's jail.conf; jail.d/*.conf, jail.local and jail.d/*.local beside "
                     "it are read too, in fail2ban's order")
        ->capture_default_str();
    import_command->add_option("--jail", import.jail, "the fail2ban jail to import")
        ->capture_default_str();
    import_command
        ->add_option("--config", import.config,
                     "exim-ban.conf: conf.d/ beside it gets the settings, its database the bans")
        ->capture_default_str();
    import_command->add_flag("--dry-run", import.dry_run,
                             "print what would be written and stored, change nothing");
    import_command->add_flag("--force", import.force,
                             "replace a conf.d/50-fail2ban.conf an earlier import wrote");

    // The commands that talk to the daemon, each with --socket, --config, --json.
    exim_ban::DaemonCommandOptions daemon_options;
    std::string socket_path;
    std::string daemon_config = exim_ban::default_config_file;
    std::vector<CLI::App*> daemon_commands;
    auto add_daemon_command = [&](const char* name, const char* help) {
        CLI::App* command = app.add_subcommand(name, help);
        command->add_option("--socket", socket_path,
                            "the daemon's control socket (default: the config's `socket`)");
        command->add_option("--config", daemon_config, "the config naming the socket")
            ->capture_default_str();
        command->add_flag("--json", daemon_options.json, "print the daemon's reply as JSON");
        daemon_commands.push_back(command);
        return command;
    };
    // Checked here, so that a typo is a usage error (exit 2) that never
    // reaches the daemon.
    const CLI::Validator address(
        [](const std::string& text) {
            return exim_ban::IpAddress::parse(text) ? std::string()
                                                    : "not an IPv4 or IPv6 address: " + text;
        },
        "IP");
    const CLI::Validator length(
        [](const std::string& text) {
            return exim_ban::parse_duration(text) ? std::string()
                                                  : "not a duration (3600, 15m, 1h, 4w): " + text;
        },
        "DURATION");
    add_daemon_command("status", "The daemon's jails, logs and offsets, lag and counts");
    add_daemon_command("list", "Active bans: key, jail, since, remaining, hits, packets dropped")
        ->add_option("--jail", daemon_options.jail, "only this jail");
    auto* show = add_daemon_command("show", "An address's key, hits and ban history");
    show->add_option("IP", daemon_options.ip, "IPv4 or IPv6 address")->required()->check(address);
    auto* ban = add_daemon_command("ban", "Ban an address now (needs root)");
    ban->add_option("IP", daemon_options.ip,
                    "IPv4 or IPv6 address (IPv6: its jail's prefix is banned)")
        ->required()
        ->check(address);
    ban->add_option("--jail", daemon_options.jail, "the jail (default: every enabled jail)");
    ban->add_option("--for", daemon_options.duration,
                    "how long (3600, 15m, 1h, 4w; default: the jail's bantime)")
        ->check(length);
    auto* unban = add_daemon_command("unban", "Lift an address's bans, or all (needs root)");
    unban->add_option("IP", daemon_options.ip, "IPv4 or IPv6 address")->check(address);
    unban->add_flag("--all", daemon_options.all, "lift every active ban");
    unban->add_option("--jail", daemon_options.jail, "only in this jail");
    add_daemon_command("reload", "Reload the config, filters and ignore lists (needs root)");
    add_daemon_command("flush",
                       "Commit what has been read and the lifetime counts now (needs root)");
    auto* stats = add_daemon_command(
        "stats", "Counters: lines, matches per pattern, bans, errors, batch latency");
    stats->add_flag("--prometheus", daemon_options.prometheus,
                    "print Prometheus' text exposition format");
    std::string trust_action;
    auto* trust = add_daemon_command(
        "trust", "Trust earned by good logins: list, show IP, forget IP (forget needs root)");
    trust->add_option("ACTION", trust_action, "list, show or forget")
        ->required()
        ->check(CLI::IsMember({"list", "show", "forget"}));
    trust->add_option("IP", daemon_options.ip, "IPv4 or IPv6 address (show, forget)")
        ->check(address);
    trust->add_option("--jail", daemon_options.jail, "only this jail (list)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        const int code = app.exit(error);
        return code == 0 ? 0 : 2;
    }

    for (CLI::App* command : daemon_commands) {
        if (!command->parsed())
            continue;
        // `trust ACTION` is the control command trust_ACTION.
        daemon_options.command = command == trust ? "trust_" + trust_action : command->get_name();
        daemon_options.socket = socket_path;
        daemon_options.config = daemon_config;
        return exim_ban::run_daemon_command(daemon_options, std::cout, std::cerr);
    }
    if (test_command->parsed()) {
        test.filters_dir = filters_dir;
        test.config = test_config;
        return exim_ban::run_test_command(test, std::cout, std::cerr);
    }
    if (check_config->parsed())
        return exim_ban::run_check_config(config_file, std::cout, std::cerr);
    if (nft_list->parsed())
        return exim_ban::run_nft_list(nft_list_json, std::cout, std::cerr);
    if (nft_flush->parsed())
        return exim_ban::run_nft_flush(std::cout, std::cerr);
    if (import_command->parsed())
        return exim_ban::run_import_fail2ban(import, std::cout, std::cerr);
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& failure) {
        // Each command reports its own failures; this is what none expects
        // (memory, a library's own error): said once, never an abort.
        std::cerr << "exim-banctl: " << failure.what() << '\n';
        return 1;
    }
}
