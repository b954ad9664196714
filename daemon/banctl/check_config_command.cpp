#include "banctl/check_config_command.hpp"

#include "config/config_loader.hpp"
#include "config/journal_jail.hpp"
#include "config/own_addresses.hpp"
#include "core/load_error.hpp"
#include "filter/filter_loader.hpp"

#include <algorithm>
#include <system_error>

namespace exim_ban {
namespace {

void print_section(std::ostream& out, const std::string& name,
                   const std::map<std::string, Config::Origin>& settings) {
    out << '[' << name << "]\n";
    std::size_t width = 0;
    for (const auto& [key, origin] : settings)
        width = std::max(width, key.size() + 3 + origin.value.size());
    for (const auto& [key, origin] : settings) {
        const std::string line = key + " = " + origin.value;
        out << line << std::string(width - line.size() + 2, ' ') << "; " << origin.from << '\n';
    }
    out << '\n';
}

} // namespace

int run_check_config(const std::filesystem::path& config_file, std::ostream& out,
                     std::ostream& err) {
    try {
        const Config config = load_config(config_file, DiskTextFileReader{}, own_addresses());
        std::size_t patterns = 0;
        for (const auto& jail : config.jails) {
            for (const auto& source : jail.sources) {
                try {
                    const LoadedFilter filter =
                        load_filter(source.filter, config.filters_dir, DiskTextFileReader{});
                    patterns += filter.failregex.size();
                    if (const auto journal = journal_match_of(config, source, filter);
                        !journal.error.empty()) {
                        err << "exim-banctl: " << journal.error << '\n';
                        return 1;
                    }
                } catch (const LoadError& error) {
                    const Config::Origin& filter = config.origins.at(source.section).at("filter");
                    err << "exim-banctl: " << filter.from << ": [" << source.section
                        << "] filter = " << filter.value << " does not load:\n  " << error.what()
                        << '\n';
                    return 1;
                }
            }
        }

        const auto enabled = std::count_if(config.jails.begin(), config.jails.end(),
                                           [](const JailConfig& jail) { return jail.enabled; });
        out << "; " << config_file.string() << ": OK, " << config.jails.size() << " jail(s), "
            << enabled << " enabled, " << patterns << " failregex(es)\n\n";
        print_section(out, "DEFAULT", config.origins.at("DEFAULT"));
        for (const auto& jail : config.jails) {
            print_section(out, jail.name, config.origins.at(jail.name));
            for (const auto& source : jail.sources) {
                if (source.section != jail.name)
                    print_section(out, source.section, config.origins.at(source.section));
            }
        }
        for (const auto& warning : config.warnings)
            err << "exim-banctl: warning: " << warning << '\n';
        return 0;
    } catch (const LoadError& error) {
        err << "exim-banctl: " << error.what() << '\n';
    } catch (const std::system_error& error) {
        err << "exim-banctl: " << error.what() << '\n';
    }
    return 1;
}

} // namespace exim_ban
