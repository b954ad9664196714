// The shipped filters against the injection corpus (test/data/injection/)
// and the filter cases (test/data/filter-cases/), both in the corpus's format.
#include "core/cidr_set.hpp"
#include "core/dovecot_line.hpp"
#include "core/exim_line.hpp"
#include "core/line_matcher.hpp"
#include "core/line_splitter.hpp"
#include "filter/filter_loader.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace exim_ban;

namespace {

// "\0", "\xHH" in a corpus line stand for bytes, "\{N*TEXT}" for TEXT N times.
std::string unescape(const std::string& text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const std::size_t star = text.find('*', i);
        const std::size_t close = text.find('}', i);
        if (text.compare(i, 2, "\\{") == 0 && star != std::string::npos &&
            close != std::string::npos && star < close) {
            const std::size_t times = std::stoul(text.substr(i + 2, star - i - 2));
            for (std::size_t n = 0; n < times; ++n)
                out += text.substr(star + 1, close - star - 1);
            i = close;
        } else if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '0') {
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

// Every shipped filter mode the corpus knows.
const std::vector<std::string> all_modes = {"normal", "more",           "aggressive",
                                            "spam",   "dovecot_normal", "dovecot_aggressive"};

FilterSpec spec_of(const std::string& mode) {
    if (mode == "spam")
        return {"exim-spam", {}};
    if (mode.starts_with("dovecot_"))
        return {"dovecot", {{"mode", mode.substr(8)}}};
    return {"exim", {{"mode", mode}}};
}

struct ModeMatcher {
    LogFormat format;
    LineMatcher matcher;
};

const ModeMatcher& matcher_for(const std::string& mode) {
    static std::map<std::string, std::unique_ptr<ModeMatcher>> matchers;
    auto& slot = matchers[mode];
    if (!slot) {
        const LoadedFilter filter =
            load_filter(spec_of(mode), EXIM_BAN_FILTERS_DIR, DiskTextFileReader{});
        slot = std::make_unique<ModeMatcher>(
            ModeMatcher{filter.log_format, LineMatcher(filter.matcher_patterns())});
    }
    return *slot;
}

// The message a reader of `format` gives for the line alone, if any.
std::optional<std::string_view> message_of(LogFormat format, std::string_view line) {
    if (format == LogFormat::dovecot) {
        const auto dovecot = split_dovecot_line(line);
        return dovecot ? std::optional(dovecot->text) : std::nullopt;
    }
    const auto exim = split_exim_line(line);
    return exim ? std::optional(exim->message) : std::nullopt;
}

// Every entry of DIRECTORY/*.corpus (format: test/data/injection/README.md)
// gives its connecting host in the modes its "hit=" names (the exim filters'
// modes, or the dovecot filter's for a dovecot-*.corpus), with its "count="
// of failed attempts, and nothing in the others; the victims' ranges
// (198.51.100.0/24, 2001:db8:f00d::/48, where an entry plants its
// "victim=") never. Returns how many entries it read.
int check_corpus(const std::string& directory) {
    CidrSet victims;
    victims.add(*IpPrefix::parse("198.51.100.0/24"));
    victims.add(*IpPrefix::parse("2001:db8:f00d::/48"));
    const std::map<std::string, std::vector<std::string>> exim_hit_sets = {
        {"-", {}},
        {"normal+", {"normal", "more", "aggressive"}},
        {"more+", {"more", "aggressive"}},
        {"aggressive", {"aggressive"}},
        {"spam", {"spam"}}};
    const std::map<std::string, std::vector<std::string>> dovecot_hit_sets = {
        {"-", {}},
        {"normal+", {"dovecot_normal", "dovecot_aggressive"}},
        {"aggressive", {"dovecot_aggressive"}}};

    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(directory))
        if (entry.path().extension() == ".corpus")
            files.push_back(entry.path());
    std::sort(files.begin(), files.end());

    int entries = 0;
    for (const auto& path : files) {
        std::ifstream in(path);
        REQUIRE(in);
        const auto& hit_sets =
            path.filename().string().starts_with("dovecot-") ? dovecot_hit_sets : exim_hit_sets;
        std::string text, host, hit;
        std::uint32_t count = 1;
        int number = 0;
        bool pending = false;
        while (std::getline(in, text)) {
            ++number;
            if (text.rfind("@ ", 0) == 0) {
                std::istringstream fields(text.substr(2));
                count = 1;
                for (std::string field; fields >> field;) {
                    if (field.rfind("host=", 0) == 0)
                        host = field.substr(5);
                    else if (field.rfind("hit=", 0) == 0)
                        hit = field.substr(4);
                    else if (field.rfind("count=", 0) == 0)
                        count = static_cast<std::uint32_t>(std::stoul(field.substr(6)));
                }
                pending = true;
                continue;
            }
            if (!pending)
                continue;
            pending = false;
            ++entries;
            INFO(path.filename().string() << ":" << number << " host " << host << " hit=" << hit);
            std::set<std::string> modes;
            std::istringstream list(hit);
            for (std::string each; std::getline(list, each, ',');) {
                REQUIRE(hit_sets.count(each) == 1);
                modes.insert(hit_sets.at(each).begin(), hit_sets.at(each).end());
            }
            const std::string line = unescape(text);
            if (line.size() > max_line_bytes) {
                // Cut by the log reader and then never a hit (its end is
                // client text): checked through exim-banctl by
                // check-injection, not here at the matcher.
                CHECK(modes.empty());
                continue;
            }
            const auto want = IpAddress::parse(host);
            REQUIRE(want);
            for (const std::string& mode : all_modes) {
                INFO("mode " << mode);
                const ModeMatcher& mode_matcher = matcher_for(mode);
                const auto message = message_of(mode_matcher.format, line);
                const LineMatch match =
                    message ? mode_matcher.matcher.match(*message) : LineMatch{};
                if (match.kind == LineMatch::Kind::hit)
                    CHECK_FALSE(victims.contains(match.host));
                if (modes.count(mode) == 0) {
                    CHECK(match.kind != LineMatch::Kind::hit);
                } else {
                    REQUIRE(match.kind == LineMatch::Kind::hit);
                    CHECK(match.host.to_string() == want->to_string());
                    // The line alone: a fresh session memory counts it so.
                    CHECK(match.attempts.value_or(1) == count);
                }
            }
        }
    }
    return entries;
}

} // namespace

TEST_CASE("injection corpus: client text never names the banned host", "[security]") {
    CHECK(check_corpus(std::string(EXIM_BAN_TEST_DATA_DIR) + "/injection") >= 200);
}

// test/data/filter-cases: each shape Exim 4.96 to 4.99 writes (its source
// noted beside it), the modes that count it, and the honest senders'
// shapes (deferrals, policy) that no exim mode counts.
TEST_CASE("filter cases: every Exim shape hits in exactly its modes", "[filter]") {
    CHECK(check_corpus(std::string(EXIM_BAN_TEST_DATA_DIR) + "/filter-cases") >= 100);
}
