// Every annotated line of fail2ban's own Exim and Dovecot test logs must give
// the same verdict and host with exim-ban's shipped filters, in every mode
// its block names; the lines exim-ban refuses for safety are listed, each
// with its reason, and must give no hit.
#include "core/dovecot_line.hpp"
#include "core/exim_line.hpp"
#include "core/line_matcher.hpp"
#include "filter/filter_loader.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
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

LoadedFilter shipped_filter(const std::string& filter, const nlohmann::json& options) {
    FilterSpec spec{filter, {}};
    for (const auto& [key, value] : options.items())
        spec.parameters[key] = value.get<std::string>();
    return load_filter(spec, EXIM_BAN_FILTERS_DIR, DiskTextFileReader{});
}

struct ParsedLine {
    LogTime time;
    std::string_view message;
};

// fail2ban's tests run at 2005-08-14 in Europe/Zurich: a date without a year
// is the latest such date not after that day, and a TAI64N label (UTC) is
// shown in CEST.
std::optional<ParsedLine> parse(LogFormat format, std::string_view text) {
    if (format == LogFormat::exim) {
        const auto exim = split_exim_line(text);
        if (!exim)
            return std::nullopt;
        return ParsedLine{exim->time, exim->message};
    }
    const auto dovecot = split_dovecot_line(text);
    if (!dovecot)
        return std::nullopt;
    if (dovecot->yearless_time) {
        const std::int64_t test_day = days_from_civil(2005, 8, 14) * 86400;
        YearPicker years;
        const auto placed = years.place(*dovecot->yearless_time, test_day);
        REQUIRE(placed);
        return ParsedLine{LogTime{*placed, 0, std::nullopt}, dovecot->text};
    }
    LogTime time = *dovecot->time;
    if (time.utc_offset) {
        constexpr std::int32_t cest = 2 * 3600;
        time = LogTime{time.wall_seconds - *time.utc_offset + cest, 0, std::nullopt};
    }
    return ParsedLine{time, dovecot->text};
}

// Lines (by line number) that fail2ban matches and exim-ban refuses, and why.
using Refusals = std::map<int, std::string>;

void check_log(const std::string& log, const std::string& filter, const Refusals& refused = {}) {
    const auto lines =
        read_annotated(std::string(EXIM_BAN_TEST_DATA_DIR) + "/fail2ban/logs/" + log);
    REQUIRE(lines.size() >= 8);
    int checked = 0;
    for (const auto& annotated : lines) {
        INFO(log << ':' << annotated.line_number << " options " << annotated.options.dump()
                 << "\n  " << annotated.text);
        const LoadedFilter loaded = shipped_filter(filter, annotated.options);
        const LineMatcher matcher(loaded.matcher_patterns());
        const auto parsed = parse(loaded.log_format, annotated.text);
        const bool want = annotated.expected.at("match").get<bool>();
        const auto refusal = refused.find(annotated.line_number);
        if (refusal != refused.end()) {
            INFO("refused: " << refusal->second);
            CHECK(want);
            REQUIRE(parsed);
            CHECK(matcher.match(parsed->message).kind != LineMatch::Kind::hit);
            ++checked;
            continue;
        }
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

// The auth process writes "DB(USER,IP[,<SESSION>]): MESSAGE" with the user
// name unescaped before the address. Without a session the request may have
// had no address at all (a userdb lookup by LMTP, a local client), and then
// a user name "x,198.51.100.1" reads as the address: exim-ban takes the
// address only where a session follows it. Those lines also tell of an
// attempt that the login process's summary (or Exim's 535) counts.
const std::string no_session =
    "no session after the address: a user name carrying \",IP\" cannot be told apart";
// "unknown user" of a database that also serves userdb lookups: LMTP looks
// up a recipient the sender chose, with a session and maybe no address.
const std::string userdb_unknown =
    "\"unknown user\" of sql/ldap/passwd-file may be an LMTP userdb lookup of a recipient "
    "the sender chose: the login process's summary counts the attempt";
// PAM's own line (pam_unix) has no session, so it cannot be told from the
// login process's summary of the same attempt: counting both counts twice.
const std::string pam_unix = "pam_unix's line: the login process's summary counts this attempt";

TEST_CASE("shipped dovecot filter agrees with fail2ban's annotated dovecot log", "[conformance]") {
    check_log("dovecot", "dovecot",
              {{5, pam_unix},
               {8, pam_unix},
               {10, pam_unix},
               {29, no_session},
               {32, no_session},
               {35, no_session},
               {38, no_session},
               {41, no_session},
               {44, no_session},
               {47, userdb_unknown},
               {50, userdb_unknown},
               {59, no_session},
               {64, no_session},
               {66, no_session},
               {72, pam_unix},
               {103, no_session}});
}
