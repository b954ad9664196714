#include "banctl/test_command.hpp"

#include "config/config_loader.hpp"
#include "config/log_paths.hpp"
#include "config/own_addresses.hpp"
#include "core/jail_judge.hpp"
#include "core/load_error.hpp"
#include "filter/filter_loader.hpp"
#include "scan/log_scan.hpp"
#include "scan/scan_report_format.hpp"

#include <memory>
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

// The files a source of the jail reads now (its globs expanded); a journal
// source is not replayed: said on `err`.
std::vector<std::string> source_files(const SourceConfig& source, std::ostream& err) {
    if (source.journal)
        err << "exim-banctl: [" << source.section
            << "] reads the journal, which is not replayed; to scan its entries: journalctl "
               "-o short-iso-precise ... | exim-banctl test - FILTER\n";
    ExpandedLogPaths expanded = expand_log_paths(source.logpaths);
    for (const auto& warning : expanded.warnings)
        err << "exim-banctl: warning: [" << source.section << "]: " << warning << '\n';
    return std::move(expanded.paths);
}

// The jail's filters as one for the report: their patterns in source order.
LoadedFilter joined_filter(const std::vector<LoadedFilter>& filters) {
    LoadedFilter joined = filters.front();
    for (std::size_t i = 1; i < filters.size(); ++i) {
        joined.name += " + " + filters[i].name;
        joined.source += ", " + filters[i].source;
        joined.failregex.insert(joined.failregex.end(), filters[i].failregex.begin(),
                                filters[i].failregex.end());
        joined.warnings.insert(joined.warnings.end(), filters[i].warnings.begin(),
                               filters[i].warnings.end());
    }
    return joined;
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

        // What is scanned: LOGFILE through FILTER (or the jail's only
        // filter); or, with a jail and no LOGFILE, every file of each of its
        // sources through that source's filter.
        std::vector<LoadedFilter> filters;
        std::vector<std::vector<std::string>> paths; // per filter
        std::filesystem::path filters_dir = default_filters_dir(options.filters_dir);
        if (jail != nullptr && options.filter.empty()) {
            if (options.filters_dir.empty())
                filters_dir = config->filters_dir;
            if (!options.log_path.empty() && jail->sources.size() > 1)
                throw std::invalid_argument(
                    "jail [" + jail->name + "] has " + std::to_string(jail->sources.size()) +
                    " sources, each with its filter: give FILTER to scan " + options.log_path +
                    " with one, or leave LOGFILE out to replay the jail's sources");
            for (const auto& source : jail->sources) {
                filters.push_back(load_filter(source.filter, filters_dir, DiskTextFileReader{}));
                paths.push_back(options.log_path.empty()
                                    ? source_files(source, err)
                                    : std::vector<std::string>{options.log_path});
            }
        } else {
            if (options.log_path.empty())
                throw std::invalid_argument(
                    "give LOGFILE, or --jail (--config) to replay a jail's sources");
            filters.push_back(
                load_filter(parse_filter_spec(options.filter.empty() ? "exim" : options.filter),
                            filters_dir, DiskTextFileReader{}));
            paths.push_back({options.log_path});
        }
        const LoadedFilter filter = joined_filter(filters);
        std::vector<LineMatcher> matchers;
        std::vector<std::unique_ptr<LogFile>> logs;
        std::vector<ScanInput> inputs;
        std::string log_names;
        matchers.reserve(filters.size());
        for (std::size_t i = 0, first = 0; i < filters.size(); ++i) {
            matchers.emplace_back(filters[i].matcher_patterns());
            for (const auto& path : paths[i]) {
                logs.push_back(std::make_unique<LogFile>(path));
                inputs.push_back({*logs.back(), {matchers.back(), filters[i].log_format, first}});
                log_names += (log_names.empty() ? "" : ", ") + path;
            }
            first += filters[i].failregex.size();
        }
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
            print_scan_header(out, filter, log_names);
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
            scan_logs(inputs, filter.failregex.size(), on_missed, judge ? &*judge : nullptr);
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
