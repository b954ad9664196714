#include "core/line_matcher.hpp"
#include "core/load_error.hpp"
#include "filter/filter_loader.hpp"
#include "filter/text_file_reader.hpp"
#include "support/in_memory_files.hpp"

#include <catch2/catch.hpp>
#include <functional>
#include <memory>
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

// What the shipped filter `spec`'s successregexes make of a message: "HOST
// ACCOUNT" of a good login, or "(none)".
std::function<std::string(std::string_view)> shipped_login(const std::string& spec) {
    const LoadedFilter filter =
        load_filter(parse_filter_spec(spec), EXIM_BAN_FILTERS_DIR, DiskTextFileReader{});
    auto success = std::make_shared<const LineMatcher>(*filter.success_patterns());
    return [success](std::string_view message) {
        const LineMatch match = success->match(message);
        return match.kind == LineMatch::Kind::hit
                   ? match.host.to_string() + " " + std::string(match.account)
                   : std::string("(none)");
    };
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

TEST_CASE("successregex: a host tag and <F-USER> each, matched apart from failregex",
          "[loader][trust]") {
    InMemoryFiles files;
    files
        .add("/f/ok.conf", "[Definition]\nfailregex = ^bad <HOST>$\n"
                           "successregex = ^good <HOST> user=<F-USER>\\S+</F-USER>$\n")
        .add("/f/nohost.conf", "[Definition]\nfailregex = ^bad <HOST>$\n"
                               "successregex = ^good user=<F-USER>\\S+</F-USER>$\n")
        .add("/f/nouser.conf", "[Definition]\nfailregex = ^bad <HOST>$\n"
                               "successregex = ^good <HOST>$\n");
    const LoadedFilter filter = load(files, "ok");
    REQUIRE(filter.successregex.size() == 1);
    CHECK(filter.successregex[0].line == 3);
    CHECK(host_of(filter, "good 192.0.2.7 user=alice") == "(no hit)");
    const LineMatcher success(*filter.success_patterns());
    const LineMatch login = success.match("good 192.0.2.7 user=alice");
    REQUIRE(login.kind == LineMatch::Kind::hit);
    CHECK(login.host.to_string() == "192.0.2.7");
    CHECK(login.account == "alice");
    CHECK_THROWS_WITH(load(files, "nohost"),
                      Catch::Contains("/f/nohost.conf:3:") && Catch::Contains("no <HOST>"));
    CHECK_THROWS_WITH(load(files, "nouser"),
                      Catch::Contains("/f/nouser.conf:3:") && Catch::Contains("<F-USER>"));
    files.add("/f/none.conf", "[Definition]\nfailregex = ^bad <HOST>$\n");
    CHECK_FALSE(load(files, "none").success_patterns());
}

TEST_CASE("the Exim filter's successregex: authenticated <= lines, and no client text",
          "[loader][trust]") {
    for (const char* mode : {"normal", "more", "aggressive"}) {
        INFO(mode);
        const auto login = shipped_login(std::string("exim[mode=") + mode + "]");
        // Lines Exim 4.96 to 4.99 wrote in the lab (test/data/exim-corpus).
        CHECK(login("1xaf3I-000000006qr-0lcY <= carol@lab.example H=(laptop.client.example) "
                    "[fd00:99:1::12]:34223 I=[fd00:99::2]:587 Ci=26341 P=esmtpsa "
                    "X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=login_server:carol S=490 "
                    "id=20261207201111.026302@vm") == "fd00:99:1::12 carol");
        CHECK(login("1xaf3I-000000006qq-0aY4 <= bob@lab.example H=(laptop.client.example) "
                    "[fd00:99:1::10] Ci=26340 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 "
                    "CV=no A=plain_server:bob S=481 id=20261207201111.026296@vm") ==
              "fd00:99:1::10 bob");
        CHECK(login("1xaf2t-0006hW-04 <= alice@lab.example H=(laptop.client.example) [10.99.1.10] "
                    "P=esmtpsa X=TLS1.3:ECDHE_X25519__ECDSA_SECP256R1_SHA256__AES_256_GCM:256 "
                    "CV=no A=login_server:alice S=478 id=20261207201046.025736@vm") ==
              "10.99.1.10 alice");
        // No server_set_id: no account, no trust.
        CHECK(login("1xaf3H-000000006qi-2rJ3 <= alice@lab.example H=(laptop.client.example) "
                    "[10.99.1.13]:32887 I=[10.99.0.2]:465 Ci=26332 P=esmtpsa "
                    "X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=plain_server S=489 id=x@vm") ==
              "(none)");
        // The seed's logwrite comes before the password check and names no account.
        CHECK(login("AUTH accepted 10.99.1.10 587 esmtps") == "(none)");
        // Not authenticated: a sender, a HELO or a message id cannot forge one.
        CHECK(login("1xaf2t-0006hW-04 <= \"x H=[192.0.2.66] A=p:alice\"@evil.example "
                    "H=[198.51.100.9] P=esmtp S=1 id=a") == "(none)");
        CHECK(login("1xaf2t-0006hW-04 <= x@evil.example H=([192.0.2.66] A=p:alice) "
                    "[198.51.100.9] P=esmtp S=1 id=a") == "(none)");
        CHECK(login("1xaf2t-0006hW-04 <= x@evil.example H=[198.51.100.9] P=esmtp S=1 "
                    "id=A=p:alice") == "(none)");
        // An ident reply, or the TLS SNI or peer DN, is client text before A=.
        CHECK(login("1xaf2t-0006hW-04 <= x@evil.example H=[198.51.100.9] U=x A=p:alice "
                    "P=esmtp S=1 id=a") == "(none)");
        CHECK(login("1xaf2t-0006hW-04 <= x@evil.example H=[198.51.100.9] P=esmtps X=TLS1.3 "
                    "SNI=\"a A=p:alice\" S=1 id=a") == "(none)");
        // The fakereject "(=" is no acceptance.
        CHECK(login("1xaf2t-0006hW-04 (= alice@lab.example H=[10.99.1.10] P=esmtpsa "
                    "A=login_server:alice S=478") == "(none)");
    }
}

TEST_CASE("the dovecot filter's successregex: 2.3's Login and 2.4's Logged in, the last rip= "
          "Dovecot's fields follow",
          "[loader][trust]") {
    for (const char* mode : {"normal", "aggressive"}) {
        INFO(mode);
        const auto login = shipped_login(std::string("dovecot[mode=") + mode + "]");
        // Lines Dovecot 2.3.19 and 2.4.4 wrote in the lab (test/data/dovecot-corpus).
        CHECK(
            login("imap-login: Info: Login: user=<alice>, method=PLAIN, rip=2001:db8:bad:d100::1, "
                  "lip=2001:db8:bad:d000::1, mpid=22179, "
                  "session=<psq53xNiQ4EgAQ24C63RAAAAAAAAAAAB>") == "2001:db8:bad:d100::1 alice");
        CHECK(login("pop3-login: Login: user=<bob@lab.example>, method=PLAIN, rip=10.98.1.20, "
                    "lip=10.98.0.1, mpid=7, TLS, session=<x>") == "10.98.1.20 bob@lab.example");
        CHECK(login("imap-login: Logged in: user=<carol>, method=PLAIN, rip=10.98.1.21, "
                    "lip=10.98.0.1, mpid=9, TLS, session=<y>") == "10.98.1.21 carol");
        // A name that plants the fields of another address stays the account.
        CHECK(login("imap-login: Login: user=<x>, method=PLAIN, rip=198.51.100.7, lip=1.2.3.4>, "
                    "method=PLAIN, rip=10.98.1.22, lip=10.98.0.1, mpid=9, session=<z>") ==
              "10.98.1.22 x>, method=PLAIN, rip=198.51.100.7, lip=1.2.3.4");
        // A failure is no login.
        CHECK(login("imap-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<alice>, "
                    "method=PLAIN, rip=10.98.1.23, lip=10.98.0.1, session=<w>") == "(none)");
    }
}

TEST_CASE("successregex matches the prefregex's content, as the failregexes do",
          "[loader][trust]") {
    InMemoryFiles files;
    files.add("/f/pref.conf", "[Definition]\nprefregex = ^svc: <F-CONTENT>.+</F-CONTENT>$\n"
                              "failregex = ^bad <HOST>$\n"
                              "successregex = ^good <HOST> user=<F-USER>\\S+</F-USER>$\n");
    const LineMatcher success(*load(files, "pref").success_patterns());
    CHECK(success.match("svc: good 192.0.2.7 user=alice").kind == LineMatch::Kind::hit);
    CHECK(success.match("good 192.0.2.7 user=alice").kind == LineMatch::Kind::none);
}
