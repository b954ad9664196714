// The shipped filters against test/data/filter-cases/*.cases: for every
// line, the address it must give, or none. No case may give an address in
// the victims' ranges (198.18.0.0/15, 2001:db8:bad::/48).
#include "core/cidr_set.hpp"
#include "core/exim_line.hpp"
#include "core/line_matcher.hpp"
#include "filter/filter_loader.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <memory>
#include <string>

using namespace exim_ban;

namespace {

// "\0", "\xHH", "\\" in a case line stand for bytes.
std::string unescape(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '0') {
            out += '\0';
            ++i;
        } else if (text[i] == '\\' && i + 3 < text.size() && text[i + 1] == 'x') {
            out += static_cast<char>(std::stoi(text.substr(i + 2, 2), nullptr, 16));
            i += 3;
        } else {
            out += text[i];
        }
    }
    return out;
}

const LineMatcher& matcher_for(const std::string& mode) {
    static std::map<std::string, std::unique_ptr<LineMatcher>> matchers;
    auto& slot = matchers[mode];
    if (!slot) {
        const FilterSpec spec =
            mode == "spam" ? FilterSpec{"exim-spam", {}} : FilterSpec{"exim", {{"mode", mode}}};
        slot = std::make_unique<LineMatcher>(
            load_filter(spec, EXIM_BAN_FILTERS_DIR, DiskTextFileReader{}).matcher_patterns());
    }
    return *slot;
}

} // namespace

TEST_CASE("injection cases: client text never names the banned host", "[security]") {
    CidrSet victims;
    victims.add(*IpPrefix::parse("198.18.0.0/15"));
    victims.add(*IpPrefix::parse("2001:db8:bad::/48"));

    std::ifstream in(std::string(EXIM_BAN_TEST_DATA_DIR) + "/filter-cases/injection.cases");
    REQUIRE(in);
    std::string text;
    int number = 0, cases = 0;
    while (std::getline(in, text)) {
        ++number;
        if (text.empty() || text.front() == '#')
            continue;
        const auto first = text.find(' ');
        const auto second = text.find(' ', first + 1);
        REQUIRE(second != std::string::npos);
        const std::string mode = text.substr(0, first);
        const std::string expected = text.substr(first + 1, second - first - 1);
        const std::string line = unescape(text.substr(second + 1));
        INFO("injection.cases:" << number << " [" << mode << "] " << text.substr(second + 1));
        ++cases;

        const auto parsed = split_exim_line(line);
        REQUIRE(parsed);
        // Every mode that includes this one must agree.
        for (const std::string& each :
             mode == "normal" ? std::vector<std::string>{"normal", "more", "aggressive"}
             : mode == "more" ? std::vector<std::string>{"more", "aggressive"}
                              : std::vector<std::string>{mode}) {
            INFO("mode " << each);
            const LineMatch match = matcher_for(each).match(parsed->message);
            if (match.kind == LineMatch::Kind::hit)
                CHECK_FALSE(victims.contains(match.host));
            if (expected == "-") {
                CHECK(match.kind != LineMatch::Kind::hit);
            } else {
                REQUIRE(match.kind == LineMatch::Kind::hit);
                CHECK(match.host.to_string() == expected);
            }
        }
    }
    CHECK(cases >= 40);
}
