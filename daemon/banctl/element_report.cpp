#include "banctl/element_report.hpp"

#include "core/duration.hpp"
#include "firewall/firewall_jail.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace exim_ban {
namespace {

// Rounded up: an element that expires in 300 ms is still there, so it
// must not show 0s.
std::chrono::seconds whole_seconds(std::chrono::milliseconds time) {
    return std::chrono::ceil<std::chrono::seconds>(std::max(time, std::chrono::milliseconds{0}));
}

std::string table_text() {
    return "table inet " + std::string(firewall_table_name);
}

} // namespace

void print_element_table(std::ostream& out, const ListResult& listing) {
    if (!listing.table_present) {
        out << "no " << table_text()
            << ": the kernel holds no bans of exim-ban (the daemon has not started, or "
               "nft-flush removed the table)\n";
        return;
    }
    using Row = std::array<std::string, 6>;
    std::vector<Row> rows{{"JAIL", "ELEMENT", "EXPIRES", "TIMEOUT", "PACKETS", "BYTES"}};
    for (const auto& element : listing.elements)
        rows.push_back({element.jail, element.key.to_string(),
                        format_duration(whole_seconds(element.expires)),
                        format_duration(whole_seconds(element.timeout)),
                        std::to_string(element.packets), std::to_string(element.bytes)});

    std::array<std::size_t, 6> widths{};
    for (const auto& row : rows) {
        for (std::size_t column = 0; column < row.size(); ++column)
            widths[column] = std::max(widths[column], row[column].size());
    }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t column = 0; column < row.size(); ++column) {
            const std::string& cell = row[column];
            const std::string padding(widths[column] - cell.size(), ' ');
            // Text left, numbers right.
            line += column < 4 ? cell + padding : padding + cell;
            if (column + 1 < row.size())
                line += "  ";
        }
        line.erase(line.find_last_not_of(' ') + 1);
        out << line << '\n';
    }
    const std::size_t count = listing.elements.size();
    out << count << (count == 1 ? " element" : " elements") << " in " << table_text() << '\n';
}

nlohmann::json element_json(const ListResult& listing) {
    nlohmann::json elements = nlohmann::json::array();
    for (const auto& element : listing.elements)
        elements.push_back({
            {"jail", element.jail},
            {"element", element.key.to_string()},
            {"family", element.key.network().is_v4() ? "ipv4" : "ipv6"},
            {"expires", whole_seconds(element.expires).count()},
            {"timeout", whole_seconds(element.timeout).count()},
            {"packets", element.packets},
            {"bytes", element.bytes},
        });
    return {{"table", table_text()}, {"present", listing.table_present}, {"elements", elements}};
}

} // namespace exim_ban
