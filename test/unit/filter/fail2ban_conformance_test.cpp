// Every annotated line of fail2ban's own Exim test logs must give the same
// verdict and host with exim-ban's shipped filters, in every mode its block
// names.
#include "core/exim_line.hpp"
#include "core/line_matcher.hpp"
#include "filter/filter_loader.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

using namespace exim_ban;

namespace {

struct AnnotatedLine {
    int line_number;
    std::string text;
    nlohmann::json expected;
    nlohmann::json options; // one option set ({} = defaults)
};

std::vector<AnnotatedLine> read_annotated(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in);
    std::vector<AnnotatedLine> lines;
    nlohmann::json options = nlohmann::json::array({nlohmann::json::object()});
    nlohmann::json pending;
    std::string text;
    int number = 0;
    while (std::getline(in, text)) {
        ++number;
        if (text.starts_with("# filterOptions:")) {
            options = nlohmann::json::parse(text.substr(16));
            if (!options.is_array())
                options = nlohmann::json::array({options});
        } else if (text.starts_with("# failJSON:")) {
            pending = nlohmann::json::parse(text.substr(11));
        } else if (!pending.is_null() && !text.starts_with('#') && !text.empty()) {
            for (const auto& option_set : options)
                lines.push_back({number, text, pending, option_set});
            pending = nullptr;
        }
    }
    return lines;
}

LineMatcher shipped_matcher(const std::string& filter, const nlohmann::json& options) {
    FilterSpec spec{filter, {}};
    for (const auto& [key, value] : options.items())
        spec.parameters[key] = value.get<std::string>();
    return LineMatcher(
        load_filter(spec, EXIM_BAN_FILTERS_DIR, DiskTextFileReader{}).matcher_patterns());
}

void check_log(const std::string& log, const std::string& filter) {
    const auto lines =
        read_annotated(std::string(EXIM_BAN_TEST_DATA_DIR) + "/fail2ban/logs/" + log);
    REQUIRE(lines.size() >= 8);
    int checked = 0;
    for (const auto& annotated : lines) {
        INFO(log << ':' << annotated.line_number << " options " << annotated.options.dump()
                 << "\n  " << annotated.text);
        const LineMatcher matcher = shipped_matcher(filter, annotated.options);
        const auto parsed = split_exim_line(annotated.text);
        const bool want = annotated.expected.at("match").get<bool>();
        if (!parsed) {
            CHECK_FALSE(want);
            continue;
        }
        const LineMatch match = matcher.match(parsed->message);
        if (!want) {
            CHECK(match.kind != LineMatch::Kind::hit);
            ++checked;
            continue;
        }
        REQUIRE(match.kind == LineMatch::Kind::hit);
        CHECK(match.host.to_string() == annotated.expected.at("host").get<std::string>());
        if (annotated.expected.contains("time"))
            CHECK(parsed->time.iso() == annotated.expected.at("time").get<std::string>());
        ++checked;
    }
    CHECK(checked == static_cast<int>(lines.size()));
}

} // namespace

TEST_CASE("shipped exim filter agrees with fail2ban's annotated exim log", "[conformance]") {
    check_log("exim", "exim");
}

TEST_CASE("shipped exim-spam filter agrees with fail2ban's annotated exim-spam log",
          "[conformance]") {
    check_log("exim-spam", "exim-spam");
}
