#include "banctl/daemon_commands.hpp"

#include "banctl/prometheus_text.hpp"
#include "config/config_loader.hpp"
#include "config/own_addresses.hpp"
#include "control/control_client.hpp"
#include "core/duration.hpp"
#include "core/load_error.hpp"
#include "filter/text_file_reader.hpp"

#include <iomanip>
#include <ostream>

namespace exim_ban {
namespace {

using nlohmann::json;

constexpr std::chrono::milliseconds call_timeout{10'000};
const std::filesystem::path default_socket = "/run/exim-ban/control.sock";

std::filesystem::path socket_of(const DaemonCommandOptions& options) {
    if (!options.socket.empty())
        return options.socket;
    std::error_code missing;
    if (!std::filesystem::exists(options.config, missing))
        return default_socket;
    return load_config(options.config, DiskTextFileReader{}, own_addresses()).socket;
}

std::string text(const json& value) {
    if (value.is_string())
        return value.get<std::string>();
    if (value.is_null())
        return "-";
    return value.dump();
}

std::string seconds_text(const json& value) {
    if (!value.is_number_integer())
        return text(value);
    return format_duration(std::chrono::seconds{value.get<std::int64_t>()});
}

// Columns as wide as their widest cell, two spaces apart.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()), 0);
        for (std::size_t i = 0; i < row.size(); ++i)
            widths[i] = std::max(widths[i], row[i].size());
    }
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            out << row[i];
            if (i + 1 < row.size())
                out << std::string(widths[i] - row[i].size() + 2, ' ');
        }
        out << '\n';
    }
}

void print_status(std::ostream& out, const json& reply) {
    out << "exim-band: up " << seconds_text(reply["uptime_s"]) << "; " << text(reply["lines"])
        << " lines, " << text(reply["hits"]) << " hits, " << text(reply["bans"]) << " bans, "
        << text(reply["unbans"]) << " unbans\n\n";
    std::vector<std::vector<std::string>> jails{
        {"JAIL", "TRACKED", "DROPPED", "MAXRETRY", "FINDTIME", "BANTIME"}};
    for (const auto& jail : reply["jails"])
        jails.push_back({text(jail["name"]), text(jail["tracked_keys"]), text(jail["dropped_keys"]),
                         text(jail["maxretry"]), seconds_text(jail["findtime"]),
                         seconds_text(jail["bantime"])});
    print_table(out, jails);
    out << '\n';
    std::vector<std::vector<std::string>> files{{"LOG", "OFFSET", "SIZE", "LAG"}};
    for (const auto& file : reply["files"])
        files.push_back({text(file["path"]), text(file["offset"]), text(file["size"]),
                         text(file["lag_bytes"])});
    print_table(out, files);
}

void print_list(std::ostream& out, const json& reply) {
    std::vector<std::vector<std::string>> rows{
        {"KEY", "JAIL", "SINCE", "REMAINING", "HITS", "PACKETS", "REASON"}};
    for (const auto& ban : reply["bans"])
        rows.push_back({text(ban["key"]), text(ban["jail"]), text(ban["since"]),
                        seconds_text(ban["remaining_s"]), text(ban["hits"]), text(ban["packets"]),
                        text(ban["reason"])});
    print_table(out, rows);
    out << reply["bans"].size() << " active ban(s)\n";
    if (reply.contains("firewall_error"))
        out << "warning: the kernel could not be read: " << text(reply["firewall_error"]) << '\n';
}

void print_show(std::ostream& out, const json& reply) {
    for (const auto& key : reply["keys"]) {
        out << "[" << text(key["jail"]) << "] " << text(reply["ip"]) << ": key " << text(key["key"])
            << ", " << text(key["lifetime_hits"]) << " hit(s) in all"
            << (key["ignored"] == true ? ", on the ignore list" : "") << '\n';
        for (const auto& ban : key["bans"])
            out << "  ban   " << text(ban["since"]) << " for " << seconds_text(ban["duration_s"])
                << " (" << text(ban["reason"]) << ", " << text(ban["origin"]) << ")"
                << (ban["lifted"].is_null() ? "" : ", lifted " + text(ban["lifted"])) << '\n';
        for (const auto& hit : key["recent_hits"])
            out << "  hit   " << text(hit["at"]) << "  " << text(hit["pattern"]) << '\n';
    }
}

void print_trust(std::ostream& out, const json& reply) {
    std::vector<std::vector<std::string>> rows{{"KEY", "ACCOUNT", "LAST SEEN", "UNTIL", "JAIL"}};
    for (const auto& entry : reply["trust"])
        rows.push_back({text(entry["key"]), text(entry["account"]), text(entry["last_seen"]),
                        text(entry["until"]), text(entry["jail"])});
    print_table(out, rows);
    out << reply["trust"].size() << " trusted login(s)\n";
}

void print_stats(std::ostream& out, const json& reply) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& [name, value] : reply.items()) {
        if (name != "ok" && !value.is_structured())
            rows.push_back({name, text(value)});
    }
    print_table(out, rows);
    out << '\n';
    std::vector<std::vector<std::string>> patterns{{"JAIL", "PATTERN", "HITS"}};
    for (const auto& pattern : reply["patterns"])
        patterns.push_back(
            {text(pattern["jail"]), text(pattern["pattern"]), text(pattern["hits"])});
    print_table(out, patterns);
}

void print_reply(std::ostream& out, const std::string& cmd, const json& reply) {
    if (cmd == "status")
        print_status(out, reply);
    else if (cmd == "list")
        print_list(out, reply);
    else if (cmd == "show")
        print_show(out, reply);
    else if (cmd == "stats")
        print_stats(out, reply);
    else if (cmd == "ban")
        for (const auto& ban : reply["banned"])
            out << "banned " << text(ban["key"]) << " in " << text(ban["jail"]) << " for "
                << seconds_text(ban["duration_s"]) << '\n';
    else if (cmd == "unban")
        out << "lifted " << text(reply["unbanned"]) << " ban(s)\n";
    else if (cmd == "trust_list" || cmd == "trust_show")
        print_trust(out, reply);
    else if (cmd == "trust_forget")
        out << "forgot " << text(reply["forgotten"]) << " trusted login(s) of " << text(reply["ip"])
            << '\n';
    else
        out << cmd << ": done\n";
}

} // namespace

DaemonRequest daemon_request(const DaemonCommandOptions& options) {
    if (options.command == "unban" && options.all == !options.ip.empty())
        return {nullptr, "unban needs an IP or --all"};
    if ((options.command == "trust_show" || options.command == "trust_forget") &&
        options.ip.empty())
        return {nullptr, "trust " + options.command.substr(6) + " needs an IP"};
    if (options.command == "trust_list" && !options.ip.empty())
        return {nullptr, "trust list takes no IP (trust show IP shows one)"};
    json request = {{"cmd", options.command}};
    if (!options.ip.empty())
        request["ip"] = options.ip;
    if (!options.jail.empty())
        request["jail"] = options.jail;
    if (!options.duration.empty())
        request["for"] = options.duration;
    if (options.all)
        request["all"] = true;
    return {std::move(request), {}};
}

int run_daemon_command(const DaemonCommandOptions& options, std::ostream& out, std::ostream& err) {
    const DaemonRequest request = daemon_request(options);
    if (!request.usage_error.empty()) {
        err << "exim-banctl: " << request.usage_error << '\n';
        return exit_usage;
    }
    const std::string& cmd = options.command;
    json reply;
    try {
        reply = control_call(socket_of(options), request.request, call_timeout);
    } catch (const ControlUnreachable& error) {
        err << "exim-banctl: " << error.what() << '\n';
        return exit_unreachable;
    } catch (const LoadError& error) {
        err << "exim-banctl: " << error.what() << '\n';
        return exit_usage;
    } catch (const std::runtime_error& error) {
        err << "exim-banctl: " << error.what() << '\n';
        return exit_refused;
    }
    if (reply.value("ok", false) != true) {
        if (options.json)
            out << reply.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
        err << "exim-banctl: " << cmd << ": " << reply.value("error", "refused") << '\n';
        return exit_refused;
    }
    if (options.prometheus)
        out << prometheus_text(reply);
    else if (options.json)
        out << reply.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
    else
        print_reply(out, cmd, reply);
    return exit_ok;
}

} // namespace exim_ban
