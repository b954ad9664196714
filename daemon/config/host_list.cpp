#include "config/host_list.hpp"

#include "core/text.hpp"

namespace exim_ban {

HostList parse_host_list(std::string_view text, const std::string& file) {
    HostList list;
    for_each_line(text, [&](std::string_view line, int line_number) {
        if (const auto hash = line.find('#'); hash != std::string_view::npos)
            line = line.substr(0, hash);
        line = trim(line);
        if (line.empty())
            return;
        // Exim allows "<; a ; b" lists and ':' separators only inline; a file
        // holds one item a line, optionally preceded by "!" (negation), which
        // cannot mean "never ban" here.
        if (auto network = IpPrefix::parse(line)) {
            list.networks.push_back(*network);
        } else {
            list.warnings.push_back(
                file + ':' + std::to_string(line_number) + ": \"" + std::string(line) +
                "\" is not an IP address or network; skipped (exim-ban does no DNS)");
        }
    });
    return list;
}

} // namespace exim_ban
