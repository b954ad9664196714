#include "banctl/test_command.hpp"

#include "config/config_loader.hpp"
#include "config/own_addresses.hpp"
#include "core/jail_judge.hpp"
#include "core/load_error.hpp"
#include "filter/filter_loader.hpp"
#include "scan/log_scan.hpp"
#include "scan/scan_report_format.hpp"

#include <stdexcept>
#include <system_error>

#ifndef EXIM_BAN_SOURCE_FILTERS_DIR
#error "EXIM_BAN_SOURCE_FILTERS_DIR must name the source tree's filters/"
#endif

namespace exim_ban {

std::filesystem::path default_filters_dir(const std::filesystem::path& explicit_dir) {
    if (!explicit_dir.empty())
        return explicit_dir;
    std::filesystem::path installed = "/etc/exim-ban/filters.d";
    std::error_code error;
    if (std::filesystem::is_directory(installed, error))
        return installed;
    return EXIM_BAN_SOURCE_FILTERS_DIR;
}

namespace {

// The jail whose filter and policy a test replays: the named one, else the
// first enabled one, else the first.
const JailConfig& pick_jail(const Config& config, const std::string& name) {
    if (!name.empty()) {
        if (const JailConfig* jail = config.jail(name))
            return *jail;
    } else if (!config.jails.empty()) {
        for (const auto& jail : config.jails) {
            if (jail.enabled)
                return jail;
        }
        return config.jails.front();
    }
    std::string known;
    for (const auto& jail : config.jails)
        known += (known.empty() ? "" : ", ") + jail.name;
    throw LoadError(config.file.string(), 0,
                    (name.empty() ? std::string("has no jail") : "has no jail [" + name + "]") +
                        " (jails: " + (known.empty() ? "none" : known) + ')');
}

CidrSet loopback_only() {
    CidrSet ignore;
    ignore.add(*IpPrefix::parse("127.0.0.0/8"));
    ignore.add(*IpPrefix::parse("::1"));
    return ignore;
}

} // namespace

int run_test_command(const TestCommandOptions& options, std::ostream& out, std::ostream& err) {
    try {
        std::optional<Config> config;
        const JailConfig* jail = nullptr;
        if (!options.config.empty() || !options.jail.empty()) {
            config = load_config(options.config.empty() ? std::filesystem::path(default_config_file)
                                                        : options.config,
                                 DiskTextFileReader{}, own_addresses());
            jail = &pick_jail(*config, options.jail);
            for (const auto& warning : config->warnings)
                err << "exim-banctl: warning: " << warning << '\n';
        }

        FilterSpec spec = parse_filter_spec(options.filter.empty() ? "exim" : options.filter);
        std::filesystem::path filters_dir = default_filters_dir(options.filters_dir);
        if (jail != nullptr && options.filter.empty()) {
            spec = jail->filter;
            if (options.filters_dir.empty())
                filters_dir = config->filters_dir;
        }
        const LoadedFilter filter = load_filter(spec, filters_dir, DiskTextFileReader{});
        const LineMatcher matcher(filter.matcher_patterns());
        const LogFile log(options.log_path);

        std::optional<JailJudge> judge;
        if (options.bans) {
            if (jail != nullptr)
                judge.emplace(jail->policy, jail->ignore, jail->max_tracked_keys);
            else
                judge.emplace(JailPolicy{}, loopback_only(), 1'000'000);
        }

        MissedLineSink on_missed;
        std::ostream& missed_out = options.json ? err : out;
        if (options.print_missed) {
            on_missed = [&missed_out](std::string_view line) { missed_out << line << '\n'; };
        }
        if (!options.json) {
            print_scan_header(out, filter, options.log_path);
            if (jail != nullptr)
                out << "Use                    jail : " << jail->name << " from "
                    << config->file.string() << "\n\n";
            if (options.print_missed)
                out << "Missed line(s):\n";
        } else {
            for (const auto& warning : filter.warnings)
                err << "exim-banctl: warning: " << warning << '\n';
        }
        const ScanReport report =
            scan_log(log, matcher, filter.log_format, on_missed, judge ? &*judge : nullptr);
        if (options.json)
            out << scan_report_json(report, filter, options.bans)
                       .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                << '\n';
        else
            print_scan_report(out, report, filter, options.bans);
        out.flush();
        return 0;
    } catch (const LoadError& error) {
        err << "exim-banctl: " << error.what() << '\n';
    } catch (const std::system_error& error) {
        err << "exim-banctl: " << error.what() << '\n';
    } catch (const std::invalid_argument& error) {
        err << "exim-banctl: " << error.what() << '\n';
    }
    return 1;
}

} // namespace exim_ban
