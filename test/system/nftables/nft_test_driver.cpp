// nft-test-driver: the firewall backends behind a command line, for the
// system tests and test/bench/nft-bench. Not installed.
//
//   nft-test-driver [--jail NAME:PORTS:VERDICT:PREFIX]... [--dry-run]
//                   [--pause-before-commit] COMMAND [ARGS...]
//
//   PORTS is "all" or a comma list; VERDICT drop|reject; PREFIX 1..128.
//   setup                          describe the jails to the kernel
//   ban JAIL KEY MS [JAIL KEY MS]... setup, stage the bans, one commit
//   unban JAIL KEY [JAIL KEY]...     setup, stage the unbans, one commit
//   batch                            setup, then stdin lines "add JAIL KEY MS"
//                                    or "remove JAIL KEY", one commit
//   reconcile JAIL KEY MS ...        setup, then make the kernel hold exactly these
//   list [--json]                    exim-banctl nft-list
//   flush                            exim-banctl nft-flush
//   bench N                          setup, then time N distinct IPv4 bans
//                                    (stage + commit); prints one JSON object
//
// A commit prints "added A removed R failures F", then one line per
// failure. Exit codes: 0 ok, 3 some elements refused, 1 a fault or a
// setup error, 2 bad usage.
#include "banctl/nft_commands.hpp"
#include "core/ip_prefix.hpp"
#include "firewall/dry_run_firewall.hpp"
#include "firewall/firewall_jail.hpp"
#include "firewall/firewall_setup_error.hpp"
#include "firewall/nftables_firewall.hpp"

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace exim_ban;

namespace {

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "nft-test-driver: " << why << " (see the comment at the top of the source)\n";
    std::exit(2);
}

long long number(const std::string& text) {
    long long value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size())
        usage("not a number: " + text);
    return value;
}

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::stringstream stream(text);
    std::string part;
    while (std::getline(stream, part, separator))
        parts.push_back(part);
    return parts;
}

FirewallJail parse_jail(const std::string& spec) {
    const auto parts = split(spec, ':');
    if (parts.size() != 4)
        usage("--jail wants NAME:PORTS:VERDICT:PREFIX, not " + spec);
    FirewallJail jail;
    jail.name = parts[0];
    if (parts[1] != "all") {
        for (const auto& port : split(parts[1], ','))
            jail.ports.push_back(static_cast<std::uint16_t>(number(port)));
    }
    if (parts[2] == "reject")
        jail.verdict = Verdict::reject;
    else if (parts[2] != "drop")
        usage("verdict must be drop or reject: " + parts[2]);
    jail.ipv6_prefix = static_cast<int>(number(parts[3]));
    return jail;
}

BanKey key(const std::string& text) {
    const auto parsed = IpPrefix::parse(text);
    if (!parsed)
        usage("not an address or network: " + text);
    return *parsed;
}

int report(const CommitResult& result) {
    std::cout << "added " << result.added << " removed " << result.removed << " failures "
              << result.failures.size() << '\n';
    for (const auto& failure : result.failures)
        std::cout << "failure " << failure.jail << ' ' << failure.key.to_string() << ' '
                  << std::strerror(failure.error) << ": " << failure.reason << '\n';
    if (result.fault) {
        std::cout << "fault " << result.fault->message << '\n';
        return 1;
    }
    return result.failures.empty() ? 0 : 3;
}

void pause_if(bool pause) {
    if (!pause)
        return;
    std::cout << "paused" << std::endl;
    std::string line;
    std::getline(std::cin, line);
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    std::vector<FirewallJail> jails;
    bool dry_run = false;
    bool pause = false;
    std::size_t i = 0;
    for (; i < args.size() && args[i].starts_with("--"); ++i) {
        if (args[i] == "--jail" && i + 1 < args.size())
            jails.push_back(parse_jail(args[++i]));
        else if (args[i] == "--dry-run")
            dry_run = true;
        else if (args[i] == "--pause-before-commit")
            pause = true;
        else
            usage("unknown option " + args[i]);
    }
    if (i == args.size())
        usage("no command");
    const std::string command = args[i++];
    const std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());

    if (command == "list")
        return run_nft_list(!rest.empty() && rest[0] == "--json", std::cout, std::cerr);
    if (command == "flush")
        return run_nft_flush(std::cout, std::cerr);

    try {
        std::unique_ptr<Firewall> firewall;
        if (dry_run)
            firewall = std::make_unique<DryRunFirewall>();
        else
            firewall = std::make_unique<NftablesFirewall>();
        firewall->setup(jails);

        if (command == "setup") {
            std::cout << "setup done\n";
            return 0;
        }
        if (command == "ban") {
            if (rest.size() % 3 != 0)
                usage("ban wants JAIL KEY MS triples");
            for (std::size_t n = 0; n < rest.size(); n += 3)
                firewall->add(rest[n], key(rest[n + 1]),
                              std::chrono::milliseconds(number(rest[n + 2])));
            pause_if(pause);
            return report(firewall->commit());
        }
        if (command == "unban") {
            if (rest.size() % 2 != 0)
                usage("unban wants JAIL KEY pairs");
            for (std::size_t n = 0; n < rest.size(); n += 2)
                firewall->remove(rest[n], key(rest[n + 1]));
            pause_if(pause);
            return report(firewall->commit());
        }
        if (command == "batch") {
            std::string line;
            while (std::getline(std::cin, line)) {
                const auto words = split(line, ' ');
                if (words.size() == 4 && words[0] == "add")
                    firewall->add(words[1], key(words[2]),
                                  std::chrono::milliseconds(number(words[3])));
                else if (words.size() == 3 && words[0] == "remove")
                    firewall->remove(words[1], key(words[2]));
                else if (!line.empty())
                    usage("batch line: " + line);
            }
            return report(firewall->commit());
        }
        if (command == "reconcile") {
            if (rest.size() % 3 != 0)
                usage("reconcile wants JAIL KEY MS triples");
            std::vector<ActiveBan> bans;
            for (std::size_t n = 0; n < rest.size(); n += 3)
                bans.push_back(ActiveBan{rest[n], key(rest[n + 1]),
                                         std::chrono::milliseconds(number(rest[n + 2]))});
            return report(firewall->reconcile(bans));
        }
        if (command == "bench") {
            if (rest.size() != 1 || jails.empty())
                usage("bench wants N and a --jail");
            const long long count = number(rest[0]);
            // 10.96.0.0 upwards: the same addresses nft-bench gives nft.
            const auto start = std::chrono::steady_clock::now();
            for (long long n = 0; n < count; ++n)
                firewall->add(
                    jails.front().name,
                    BanKey(IpAddress::from_v4(0x0a600000u + static_cast<std::uint32_t>(n))),
                    std::chrono::hours(1));
            const auto staged = std::chrono::steady_clock::now();
            const CommitResult result = firewall->commit();
            const auto end = std::chrono::steady_clock::now();
            const auto seconds = [](auto duration) {
                return std::chrono::duration<double>(duration).count();
            };
            std::cout << "{\"bans\": " << count << ", \"added\": " << result.added
                      << ", \"failures\": " << result.failures.size()
                      << ", \"seconds\": " << seconds(end - start)
                      << ", \"stage_seconds\": " << seconds(staged - start)
                      << ", \"commit_seconds\": " << seconds(end - staged) << "}\n";
            return result.ok() ? 0 : 1;
        }
        usage("unknown command " + command);
    } catch (const FirewallSetupError& error) {
        std::cerr << "nft-test-driver: " << error.what() << '\n';
        return 1;
    }
}
