#include "core/line_splitter.hpp"
#include "filter/filter_loader.hpp"
#include "scan/log_scan.hpp"
#include "scan/scan_report_format.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

using namespace exim_ban;

namespace {

// A log file in a fresh temporary directory, removed with it.
class TempLog {
  public:
    explicit TempLog(const std::string& content) {
        std::ofstream(path(), std::ios::binary) << content;
    }
    std::string path() const { return (dir_ / "mainlog").string(); }
    std::string directory() const { return dir_.path().string(); }

  private:
    exim_ban::testing::TempDir dir_;
};

const LoadedFilter& exim_filter() {
    static const LoadedFilter filter =
        load_filter(FilterSpec{"exim", {}}, EXIM_BAN_FILTERS_DIR, DiskTextFileReader{});
    return filter;
}

} // namespace

TEST_CASE("a scan counts lines by outcome and hits by host", "[scan]") {
    const TempLog log(
        "2026-11-23 10:00:00 login authenticator failed for (x) [192.0.2.1]: 535 Incorrect "
        "authentication data\n"
        "2026-11-23 10:00:01 AUTH nixed 192.0.2.1 587 connect\n"
        "2026-11-23 10:00:02 AUTH nixed 2001:db8::7 587 connect\n"
        "not an exim line\n"
        "2026-11-23 10:00:03 1tXyZa-000123-AB Completed\n"
        "2026-11-23 10:00:04 AUTH nixed 999.1.1.1 587 connect");
    const LineMatcher matcher(exim_filter().matcher_patterns());
    std::vector<std::string> missed;
    const ScanReport report = scan_log(LogFile(log.path()), matcher, LogFormat::exim,
                                       [&](std::string_view line) { missed.emplace_back(line); });
    CHECK(report.lines == 6);
    CHECK(report.matched == 3);
    CHECK(report.missed == 3);
    CHECK(report.untimed_lines == 1);
    CHECK(report.invalid_hosts == 1);
    CHECK(report.hosts.at(*IpAddress::parse("192.0.2.1")) == 2);
    CHECK(report.hosts.at(*IpAddress::parse("2001:db8::7")) == 1);
    CHECK(missed == std::vector<std::string>{
                        "not an exim line", "2026-11-23 10:00:03 1tXyZa-000123-AB Completed",
                        "2026-11-23 10:00:04 AUTH nixed 999.1.1.1 587 connect"});
    CHECK(report.pattern_hits[0] == 1);

    const auto json = scan_report_json(report, exim_filter());
    std::vector<std::string> keys;
    for (const auto& [key, value] : json.items())
        keys.push_back(key);
    CHECK(keys == std::vector<std::string>{"hosts", "ignored", "lines", "matched", "missed",
                                           "patterns", "seconds"});
    CHECK(json["hosts"]["2001:db8::7"] == 1);
    CHECK(json["patterns"].size() == exim_filter().failregex.size());
    CHECK(json["patterns"][0]["hits"] == 1);
}

TEST_CASE("oversized lines, NUL bytes and invalid UTF-8 are counted, not fatal", "[scan]") {
    std::string content = "2026-11-23 10:00:00 AUTH nixed 192.0.2.2 587 \xff\xfe\n";
    content += std::string("2026-11-23 10:00:00 AUTH nixed 192.0.2.3 587 \0\0\n", 48);
    content +=
        "2026-11-23 10:00:00 AUTH nixed 192.0.2.4 " + std::string(10 * 1024 * 1024, 'x') + "\n";
    content += "2026-11-23 10:00:00 AUTH nixed 192.0.2.5 587\n";
    const TempLog log(content);
    const LineMatcher matcher(exim_filter().matcher_patterns());
    const ScanReport report = scan_log(LogFile(log.path()), matcher, LogFormat::exim, nullptr);
    CHECK(report.lines == 4);
    CHECK(report.cut_lines == 1);
    // Its end is not Exim's text: a cut line is never a hit.
    CHECK(report.matched == 3);
    CHECK(report.missed == 1);
    CHECK(report.hosts.count(*IpAddress::parse("192.0.2.4")) == 0);
}

TEST_CASE("a missing or unreadable log is a clear error", "[scan]") {
    CHECK_THROWS_WITH(LogFile("/nonexistent/mainlog"),
                      Catch::Contains("cannot open /nonexistent/mainlog") &&
                          Catch::Contains("No such file"));
    const TempLog log("x\n");
    CHECK_THROWS_WITH(scan_log(LogFile(log.directory()),
                               LineMatcher(exim_filter().matcher_patterns()), LogFormat::exim,
                               nullptr),
                      Catch::Contains("cannot read") && Catch::Contains("directory"));
}

TEST_CASE("the text report mirrors fail2ban-regex's summary", "[scan]") {
    const TempLog log("2026-11-23 10:00:00 AUTH nixed 192.0.2.9 587 connect\nx\n");
    const LineMatcher matcher(exim_filter().matcher_patterns());
    const ScanReport report = scan_log(LogFile(log.path()), matcher, LogFormat::exim, nullptr);
    std::ostringstream out;
    print_scan_report(out, report, exim_filter());
    CHECK_THAT(out.str(), Catch::Contains("Failregex: 1 total") &&
                              Catch::Contains("[1] 192.0.2.9") &&
                              Catch::Contains("Lines: 2 lines, 0 ignored, 1 matched, 1 missed") &&
                              Catch::Contains("1 without an Exim timestamp"));
}

TEST_CASE("a syslog file gives the hits of its mainlog, split entries joined", "[scan]") {
    const std::string failure = "login authenticator failed for (x) [192.0.2.1]: 535 Incorrect "
                                "authentication data (set_id=admin)";
    const std::string nixed = "AUTH nixed 2001:db8::7 587 connect";
    const TempLog mainlog("2026-11-23 10:00:00 [41] " + failure + "\n2026-11-23 10:00:01 [42] " +
                          nixed + "\n2026-11-23 10:00:02 [41] " + failure + "\n");
    const TempLog syslog("Nov 23 10:00:00 mx1 exim[41]: [1/2] [41] " + failure.substr(0, 50) +
                         "\n" + "Nov 23 10:00:01 mx1 exim[42]: [42] " + nixed + "\n" +
                         "Nov 23 10:00:00 mx1 exim[41]: [2/2] " + failure.substr(50) + "\n" +
                         "2026-11-23T10:00:02.5+00:00 mx1 exim[41]: [41] " + failure + "\n" +
                         // Its first part lost: never a hit of the text it carries.
                         "Nov 23 10:00:03 mx1 exim[43]: [2/2] " + failure + "\n" +
                         "Nov 23 10:00:04 mx1 exim[44]: [1/2] [44] " + failure.substr(0, 50) +
                         "\n");
    const LineMatcher matcher(exim_filter().matcher_patterns());
    const ScanReport from_mainlog =
        scan_log(LogFile(mainlog.path()), matcher, LogFormat::exim, nullptr);
    std::vector<std::string> missed;
    const ScanReport from_syslog =
        scan_log(LogFile(syslog.path()), matcher, LogFormat::exim,
                 [&](std::string_view line) { missed.emplace_back(line); });
    CHECK(from_syslog.hosts == from_mainlog.hosts);
    CHECK(from_syslog.pattern_hits == from_mainlog.pattern_hits);
    CHECK(from_syslog.matched == 3);
    CHECK(from_syslog.lines == 6);
    CHECK(from_syslog.split_parts == 3);   // the joined first part, the orphan, the unfinished
    CHECK(from_syslog.dropped_parts == 2); // the orphan, and the entry the log ended in
    CHECK(from_syslog.missed == 0);
    CHECK(missed.empty());
    const auto json = scan_report_json(from_syslog, exim_filter());
    CHECK(json["split_parts"] == 3);
    CHECK(json["dropped_parts"] == 2);
}

// A real Dovecot 2.3.19 log with auth_verbose (test/data/dovecot-log): each
// failed attempt is on two lines, a connection's attempts summed up on one.
TEST_CASE("a Dovecot log counts each failed attempt once", "[scan]") {
    const std::string log =
        std::string(EXIM_BAN_TEST_DATA_DIR) + "/dovecot-log/2.3.19-auth-verbose.log";
    const auto attempts = [&](const std::string& mode) {
        const LoadedFilter filter = load_filter(FilterSpec{"dovecot", {{"mode", mode}}},
                                                EXIM_BAN_FILTERS_DIR, DiskTextFileReader{});
        REQUIRE(filter.log_format == LogFormat::dovecot);
        const ScanReport report = scan_log(LogFile(log), LineMatcher(filter.matcher_patterns()),
                                           filter.log_format, nullptr);
        CHECK(report.untimed_lines == 0);
        std::map<std::string, std::uint64_t> by_host;
        for (const auto& [host, count] : report.hosts)
            by_host[host.to_string()] = count;
        return by_host;
    };
    const auto host = [](int scenario) {
        char text[32];
        std::snprintf(text, sizeof text, "2001:db8:bad:d1%02x::1", scenario);
        return std::string(text);
    };
    // The scenarios (failed attempts): 1 wrong password, 2 unknown user
    // (its auth line is not counted, the summary is), 3 three attempts,
    // 6 one mistake then a good login (no summary), 7 to 9 user names the
    // auth process refused, 10 POP3, 11 two unknown users, 13 ManageSieve,
    // 15 four attempts.
    const std::map<std::string, std::uint64_t> normal = {
        {host(1), 1}, {host(2), 1},  {host(3), 3},  {host(6), 1},  {host(7), 1}, {host(8), 1},
        {host(9), 1}, {host(10), 1}, {host(11), 2}, {host(13), 1}, {host(15), 4}};
    CHECK(attempts("normal") == normal);
    // 4, 12, 14: no authentication; 5: SASL not finished.
    std::map<std::string, std::uint64_t> aggressive = normal;
    for (const int dropped : {4, 5, 12, 14})
        aggressive[host(dropped)] = 1;
    CHECK(attempts("aggressive") == aggressive);
}
