#include "scan/test_command.hpp"

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
    const std::filesystem::path installed = "/etc/exim-ban/filters.d";
    std::error_code error;
    if (std::filesystem::is_directory(installed, error))
        return installed;
    return EXIM_BAN_SOURCE_FILTERS_DIR;
}

int run_test_command(const TestCommandOptions& options, std::ostream& out, std::ostream& err) {
    try {
        const LoadedFilter filter =
            load_filter(parse_filter_spec(options.filter), default_filters_dir(options.filters_dir),
                        DiskTextFileReader{});
        const LineMatcher matcher(filter.matcher_patterns());
        const LogFile log(options.log_path);

        MissedLineSink on_missed;
        std::ostream& missed_out = options.json ? err : out;
        if (options.print_missed) {
            on_missed = [&missed_out](std::string_view line) { missed_out << line << '\n'; };
        }
        if (!options.json) {
            print_scan_header(out, filter, options.log_path);
            if (options.print_missed)
                out << "Missed line(s):\n";
        } else {
            for (const auto& warning : filter.warnings)
                err << "exim-banctl: warning: " << warning << '\n';
        }
        const ScanReport report = scan_log(log, matcher, on_missed);
        if (options.json)
            out << scan_report_json(report, filter)
                       .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                << '\n';
        else
            print_scan_report(out, report, filter);
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
