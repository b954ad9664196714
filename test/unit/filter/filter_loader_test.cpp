#include "core/line_matcher.hpp"
#include "core/load_error.hpp"
#include "filter/filter_loader.hpp"
#include "support/in_memory_files.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace exim_ban;
using exim_ban::testing::InMemoryFiles;

namespace {

LoadedFilter load(const InMemoryFiles& files, const std::string& spec) {
    return load_filter(parse_filter_spec(spec), "/f", files);
}

std::string host_of(const LoadedFilter& filter, std::string_view message) {
    const LineMatcher matcher(filter.matcher_patterns());
    const LineMatch match = matcher.match(message);
    return match.kind == LineMatch::Kind::hit ? match.host.to_string() : "(no hit)";
}

const char* common = "[INCLUDES]\n"
                     "after = common.local\n"
                     "[Definition]\n"
                     "host = \\[<HOST>\\]\n";

// /f/common.conf and /f/NAME.conf, which includes it and then defines
// `definition` (whose first line is line 4 of the file).
InMemoryFiles beside_common(const std::string& name, const std::string& definition) {
    InMemoryFiles files;
    files.add("/f/common.conf", common)
        .add("/f/" + name + ".conf",
             "[INCLUDES]\nbefore = common.conf\n[Definition]\n" + definition);
    return files;
}

using Origins = std::vector<std::string>;

// Where each failregex was written, as "file:line", in order.
Origins origins(const LoadedFilter& filter) {
    Origins written;
    for (const auto& pattern : filter.failregex)
        written.push_back(pattern.file + ':' + std::to_string(pattern.line));
    return written;
}

} // namespace

TEST_CASE("includes, interpolation, modes and parameters", "[loader]") {
    const InMemoryFiles files = beside_common("demo", "_normal = ^bad %(host)s$\n"
                                                      "mdre-normal = %(_normal)s\n"
                                                      "mdre-more = %(mdre-normal)s\n"
                                                      "            ^worse %(host)s$\n"
                                                      "failregex = <mdre-<mode>>\n"
                                                      "            ^for <who> %(host)s$\n"
                                                      "mode = normal\n"
                                                      "[Init]\n"
                                                      "who = trap\n");

    const auto normal = load(files, "demo");
    // "^for <who> ..." starts with text of its own: it stays where it was written.
    REQUIRE(origins(normal) == Origins{"/f/demo.conf:4", "/f/demo.conf:9"});
    CHECK(normal.failregex[0].written == "^bad \\[<HOST>\\]$");
    CHECK(normal.failregex[1].written == "^for trap \\[<HOST>\\]$");
    CHECK(host_of(normal, "bad [192.0.2.1]") == "192.0.2.1");
    CHECK(host_of(normal, "worse [192.0.2.1]") == "(no hit)");

    const auto more = load(files, "demo[mode=more, who=bait]");
    REQUIRE(more.failregex.size() == 3);
    CHECK(more.failregex[1].line == 7);
    CHECK(host_of(more, "worse [2001:db8::1]") == "2001:db8::1");
    CHECK(host_of(more, "for bait [192.0.2.2]") == "192.0.2.2");
    CHECK(host_of(more, "for trap [192.0.2.2]") == "(no hit)");
}

TEST_CASE(".local overrides and known/", "[loader]") {
    InMemoryFiles files = beside_common("demo", "failregex = ^bad %(host)s$\n");
    files.add("/f/common.local", "[Definition]\nhost = \\(\\S+\\) %(known/host)s\n")
        .add("/f/demo.local",
             "[Definition]\nfailregex = %(known/failregex)s\n            ^also %(host)s$\n");
    const auto filter = load(files, "demo");
    REQUIRE(filter.failregex.size() == 2);
    CHECK(host_of(filter, "bad (helo) [192.0.2.3]") == "192.0.2.3");
    CHECK(host_of(filter, "bad [192.0.2.3]") == "(no hit)");
    CHECK(host_of(filter, "also (x) [192.0.2.4]") == "192.0.2.4");
}

TEST_CASE("load errors name file, line, pattern and what to do", "[loader]") {
    InMemoryFiles files;
    files.add("/f/look.conf", "[Definition]\nfailregex = ^a(?!b) <HOST>$\n")
        .add("/f/nohost.conf", "[Definition]\nfailregex = ^a b$\n")
        .add("/f/twohosts.conf", "[Definition]\nfailregex = ^<HOST> <ADDR>$\n")
        .add("/f/badre.conf", "[Definition]\nfailregex = ^(a <HOST>$\n")
        .add("/f/undef.conf", "[Definition]\nfailregex = ^%(nothing)s <HOST>$\n")
        .add("/f/loop.conf", "[INCLUDES]\nbefore = loop.conf\n[Definition]\nfailregex = ^<HOST>$\n")
        .add("/f/missing.conf",
             "[INCLUDES]\nbefore = absent.conf\n[Definition]\nfailregex = ^<HOST>$\n")
        .add("/f/self.conf", "[Definition]\na = %(a)s\nfailregex = ^%(a)s<HOST>$\n")
        .add("/f/mode.conf",
             "[Definition]\nfailregex = <mdre-<mode>>\nmode = normal\nmdre-normal = ^<HOST>$\n");

    CHECK_THROWS_WITH(load(files, "look"),
                      Catch::Contains("/f/look.conf:2:") &&
                          Catch::Contains("RE2 has no lookaround; rewrite without (?!...)") &&
                          Catch::Contains("^a(?!b) <HOST>$"));
    CHECK_THROWS_WITH(load(files, "nohost"),
                      Catch::Contains("/f/nohost.conf:2:") && Catch::Contains("no <HOST>"));
    CHECK_THROWS_WITH(load(files, "twohosts"), Catch::Contains("more than one host tag"));
    CHECK_THROWS_WITH(load(files, "badre"),
                      Catch::Contains("/f/badre.conf:2:") && Catch::Contains("RE2 cannot compile"));
    CHECK_THROWS_WITH(load(files, "undef"),
                      Catch::Contains("/f/undef.conf:2:") && Catch::Contains("%(nothing)s"));
    CHECK_THROWS_WITH(load(files, "loop"), Catch::Contains("include loop"));
    CHECK_THROWS_WITH(load(files, "missing"),
                      Catch::Contains("/f/missing.conf:2") && Catch::Contains("absent.conf"));
    CHECK_THROWS_WITH(load(files, "self"), Catch::Contains("refer to itself"));
    CHECK_THROWS_WITH(load(files, "absent"),
                      Catch::Contains("no filter absent.conf or absent.patterns in /f"));
    CHECK_THROWS_WITH(load(files, "mode[mode=fast]"), Catch::Contains("<mdre-fast> names nothing"));
    CHECK_THROWS_WITH(load(files, "mode[mdoe=more]"),
                      Catch::Contains("parameter \"mdoe\" is not used") && Catch::Contains("mode"));
    CHECK_THROWS_AS(load(files, "../etc/passwd"), LoadError);
}

TEST_CASE("fail2ban's stock Exim filters are refused with the construct and where it is written",
          "[loader]") {
    const std::string stock = std::string(EXIM_BAN_TEST_DATA_DIR) + "/fail2ban/filter.d/";
    for (const char* name : {"exim.conf", "exim-spam.conf"}) {
        INFO(name);
        CHECK_THROWS_WITH(load_filter(FilterSpec{stock + name, {}}, stock, DiskTextFileReader{}),
                          Catch::Contains("RE2 has no lookaround") && Catch::Contains("(?!H=)") &&
                              Catch::Contains("exim-common.conf:12 (_fields_grp)") &&
                              Catch::Contains(name));
    }
    CHECK_THROWS_WITH(load_filter(FilterSpec{stock + "exim.conf", {{"mode", "more"}}}, stock,
                                  DiskTextFileReader{}),
                      Catch::Contains("RE2 has no lookaround"));
}

TEST_CASE("pattern files: __IP__ placeholders", "[loader]") {
    InMemoryFiles files;
    files
        .add("/f/exim4.patterns", "# Symbiosis-style patterns\n"
                                  "\n"
                                  "\\[__IP__\\] AUTH command used when not advertised.*$\n"
                                  "^authenticator failed for .*\\) \\[__IP__\\]: 535\n")
        .add("/f/bad.patterns", "# no placeholder\nAUTH nixed\n")
        .add("/f/empty.patterns", "# nothing\n");
    const auto filter = load(files, "exim4");
    REQUIRE(filter.failregex.size() == 2);
    CHECK(filter.failregex[0].line == 3);
    CHECK(host_of(filter, "H=(x) [192.0.2.9] AUTH command used when not advertised") ==
          "192.0.2.9");
    REQUIRE(filter.warnings.size() == 1);
    CHECK_THAT(filter.warnings[0],
               Catch::Contains("/f/exim4.patterns:3") && Catch::Contains("not anchored"));
    CHECK_THROWS_WITH(load(files, "bad"),
                      Catch::Contains("/f/bad.patterns:2:") && Catch::Contains("__IP__"));
    CHECK_THROWS_WITH(load(files, "empty"), Catch::Contains("no pattern"));
    CHECK_THROWS_WITH(load(files, "exim4[mode=more]"), Catch::Contains("no parameters"));
}

TEST_CASE("filter specs", "[loader]") {
    auto spec = parse_filter_spec(" exim-spam[honeypot=\"a,b@example.com\", logtype=journal] ");
    CHECK(spec.name == "exim-spam");
    CHECK(spec.parameters.at("honeypot") == "a,b@example.com");
    CHECK(spec.parameters.at("logtype") == "journal");
    CHECK_FALSE(spec.is_path());
    CHECK(parse_filter_spec("./my.patterns").is_path());
    CHECK(parse_filter_spec("exim").to_string() == "exim");
    CHECK(parse_filter_spec("exim[mode=more]").to_string() == "exim[mode=more]");
    CHECK_THROWS_AS(parse_filter_spec("[mode=more]"), std::invalid_argument);
    CHECK_THROWS_AS(parse_filter_spec("exim[mode=more"), std::invalid_argument);
    CHECK_THROWS_AS(parse_filter_spec("exim[more]"), std::invalid_argument);
}

TEST_CASE("patterns that begin with a shared prefix keep their own origins", "[loader]") {
    const InMemoryFiles files = beside_common("shared", R"(_start = ^%(host)s
_one = %(_start)s one$
_two = %(_start)s two$
failregex = %(_one)s
            %(_two)s
)");
    const auto filter = load(files, "shared");
    CHECK(origins(filter) == Origins{"/f/shared.conf:5", "/f/shared.conf:6"});
}

TEST_CASE("a filter's [Init] journalmatch is loaded with where it was written", "[filter]") {
    InMemoryFiles files;
    files.add("/f/j.conf", "[Definition]\n"
                           "failregex = ^fail \\[<HOST>\\]\n"
                           "[Init]\n"
                           "journalmatch = SYSLOG_IDENTIFIER=exim\n"
                           "  + _SYSTEMD_UNIT=exim4.service\n");
    const auto filter = load(files, "j");
    REQUIRE(filter.journalmatch);
    CHECK(filter.journalmatch->text() == "SYSLOG_IDENTIFIER=exim + _SYSTEMD_UNIT=exim4.service");
    CHECK(filter.journalmatch_origin == "/f/j.conf:4");

    // A parameter overrides it, as fail2ban's filter = NAME[journalmatch=...].
    const auto overridden = load(files, "j[journalmatch=_COMM=exim4]");
    REQUIRE(overridden.journalmatch);
    CHECK(overridden.journalmatch->text() == "_COMM=exim4");

    files.add("/f/none.conf", "[Definition]\nfailregex = ^fail \\[<HOST>\\]\n");
    CHECK_FALSE(load(files, "none").journalmatch);

    files.add("/f/bad.conf", "[Definition]\nfailregex = ^fail \\[<HOST>\\]\n"
                             "[Init]\njournalmatch = exim\n");
    CHECK_THROWS_WITH(load(files, "bad"), Catch::Contains("/f/bad.conf:4") &&
                                              Catch::Contains("\"exim\" is not FIELD=VALUE"));
}

TEST_CASE("a filter's logformat says whose lines it reads", "[filter]") {
    InMemoryFiles files;
    files.add("/f/d.conf", "[Definition]\n"
                           "logformat = dovecot\n"
                           "failregex = ^imap-login: .* rip=<HOST>$\n");
    CHECK(load(files, "d").log_format == LogFormat::dovecot);

    files.add("/f/none.conf", "[Definition]\nfailregex = ^fail \\[<HOST>\\]\n");
    CHECK(load(files, "none").log_format == LogFormat::exim);

    files.add("/f/bad.conf", "[Definition]\nfailregex = ^fail \\[<HOST>\\]\nlogformat = postfix\n");
    CHECK_THROWS_WITH(load(files, "bad"), Catch::Contains("/f/bad.conf:3") &&
                                              Catch::Contains("logformat = postfix") &&
                                              Catch::Contains("exim or dovecot"));

    // The shipped dovecot filter reads Dovecot's lines, in every mode.
    for (const char* mode : {"normal", "aggressive"})
        CHECK(load_filter(FilterSpec{"dovecot", {{"mode", mode}}}, EXIM_BAN_FILTERS_DIR,
                          DiskTextFileReader{})
                  .log_format == LogFormat::dovecot);
}
