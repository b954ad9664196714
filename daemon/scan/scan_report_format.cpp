#include "scan/scan_report_format.hpp"

#include "core/duration.hpp"
#include "core/log_time.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>
#include <vector>

namespace exim_ban {
namespace {

// Hosts by hits, most first; equal counts by address, so output is stable.
std::vector<std::pair<IpAddress, std::uint64_t>> hosts_by_hits(const ScanReport& report) {
    std::vector<std::pair<IpAddress, std::uint64_t>> hosts(report.hosts.begin(),
                                                           report.hosts.end());
    std::sort(hosts.begin(), hosts.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    return hosts;
}

std::string time_text(std::int64_t seconds) {
    return LogTime{seconds, 0, std::nullopt}.iso();
}

} // namespace

nlohmann::json scan_report_json(const ScanReport& report, const LoadedFilter& filter,
                                bool with_bans) {
    nlohmann::json hosts = nlohmann::json::object();
    for (const auto& [address, hits] : report.hosts)
        hosts[address.to_string()] = hits;
    nlohmann::json patterns = nlohmann::json::array();
    for (std::size_t i = 0; i < filter.failregex.size(); ++i)
        patterns.push_back(
            {{"regex", filter.failregex[i].written}, {"hits", report.pattern_hits[i]}});
    nlohmann::json json = {
        {"lines", report.lines},           {"matched", report.matched}, {"missed", report.missed},
        {"ignored", report.ignored},       {"seconds", report.seconds}, {"hosts", std::move(hosts)},
        {"patterns", std::move(patterns)},
    };
    // Only a syslog file has parts: a mainlog's object stays DESIGN.md's.
    if (report.split_parts > 0) {
        json["split_parts"] = report.split_parts;
        json["dropped_parts"] = report.dropped_parts;
    }
    if (with_bans) {
        nlohmann::json bans = nlohmann::json::array();
        for (const auto& ban : report.bans)
            bans.push_back({{"host", ban.key.to_string()},
                            {"at", time_text(ban.start)},
                            {"duration", ban.duration.count()},
                            {"reason", ban_reason_name(ban.reason)}});
        json["bans"] = std::move(bans);
    }
    return json;
}

void print_scan_header(std::ostream& out, const LoadedFilter& filter, const std::string& log_path) {
    out << "\nRunning tests\n=============\n\n"
        << "Use   failregex filter file : " << filter.name << ", file: " << filter.source << '\n'
        << "Use                log file : " << log_path << "\n\n";
    for (const auto& warning : filter.warnings)
        out << "Warning: " << warning << '\n';
}

void print_scan_report(std::ostream& out, const ScanReport& report, const LoadedFilter& filter,
                       bool with_bans) {
    out << "\nResults\n=======\n\n";
    out << "Failregex: " << report.matched << " total\n|-  #) [# of hits] regular expression\n";
    for (std::size_t i = 0; i < filter.failregex.size(); ++i) {
        if (report.pattern_hits[i] > 0)
            out << "|  " << (i + 1 < 10 ? " " : "") << i + 1 << ") [" << report.pattern_hits[i]
                << "] " << filter.failregex[i].written << '\n';
    }
    out << "`-\n\nIgnoreregex: " << report.ignored << " total\n\n";

    // The text form is for reading: the busiest hosts; --json lists all.
    constexpr std::size_t shown_hosts = 20;
    const auto hosts = hosts_by_hits(report);
    out << "Hosts: " << hosts.size() << " total\n|-  [# of hits] address\n";
    for (std::size_t i = 0; i < hosts.size() && i < shown_hosts; ++i)
        out << "|   [" << hosts[i].second << "] " << hosts[i].first.to_string() << '\n';
    if (hosts.size() > shown_hosts)
        out << "|   ... " << hosts.size() - shown_hosts << " more (--json lists all)\n";
    out << "`-\n\n";

    if (with_bans) {
        out << "Bans: " << report.bans.size() << " total (in log time; " << report.ignored_hosts
            << " hits from ignored hosts, " << report.withheld_bans
            << " bans withheld that would cover an ignored address)\n"
            << "|-  [when] key for how long (why)\n";
        for (const auto& ban : report.bans)
            out << "|   [" << time_text(ban.start) << "] " << ban.key.to_string() << " for "
                << format_duration(ban.duration) << " (" << ban_reason_name(ban.reason) << ", ban "
                << ban.ban_number << ", " << ban.window_hits << " hits in findtime, "
                << ban.lifetime_hits << " in all)\n";
        out << "`-\n\n";
    }

    out << "Lines: " << report.lines << " lines, " << report.ignored << " ignored, "
        << report.matched << " matched, " << report.missed << " missed";
    if (report.split_parts > 0)
        out << ", " << report.split_parts << " parts of split syslog entries";
    out << '\n';
    if (report.dropped_parts > 0)
        out << "Dropped: " << report.dropped_parts
            << " parts of syslog entries that never completed (never matched)\n";
    if (report.cut_lines + report.untimed_lines + report.invalid_hosts > 0)
        out << "Skipped: " << report.cut_lines << " cut at 16 KiB, " << report.untimed_lines
            << (filter.log_format == LogFormat::exim
                    ? " without an Exim timestamp, "
                    : " not Dovecot's (no time, another program), ")
            << report.invalid_hosts << " with a matched host that is no IP address\n";
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.2f", report.seconds);
    out << "[processed in " << seconds << " sec]\n";
}

} // namespace exim_ban
