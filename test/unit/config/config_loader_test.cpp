#include "config/config_loader.hpp"
#include "config/host_list.hpp"
#include "core/load_error.hpp"
#include "support/in_memory_files.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using exim_ban::testing::InMemoryFiles;
using std::chrono::seconds;

namespace {

InMemoryFiles with_filters() {
    InMemoryFiles files;
    files.add("/etc/exim-ban/filters.d/exim.conf", "[Definition]\nfailregex = ^x <HOST>$\n");
    return files;
}

Config load(const InMemoryFiles& files, std::vector<IpPrefix> own = {}) {
    return load_config("/etc/exim-ban/exim-ban.conf", files, own);
}

bool ignored(const JailConfig& jail, const char* address) {
    return jail.ignore.contains(*IpAddress::parse(address));
}

} // namespace

TEST_CASE("the DESIGN.md example loads with its values and defaults", "[config]") {
    auto files = with_filters();
    files.add("/etc/exim-ban/exim-ban.conf",
              "[DEFAULT]\n"
              "ignoreip = 127.0.0.0/8 ::1\n"
              "bantime = 1h\n"
              "findtime = 10m\n"
              "maxretry = 5\n"
              "bantime.factor = 2\n"
              "ports = 25,465,587        ; or \"all\"\n"
              "blocktype = drop          ; or reject\n"
              "dnsbl_zone =              ; path of an rbldnsd data file\n"
              "\n"
              "[exim]\n"
              "enabled = true\n"
              "logpath = /var/log/exim4/mainlog\n"
              "filter = exim[mode=normal]\n"
              "maxretry = 3\n");
    const Config config = load(files, {*IpPrefix::parse("192.0.2.53")});
    REQUIRE(config.jails.size() == 1);
    const JailConfig& exim = config.jails[0];
    CHECK(exim.name == "exim");
    CHECK(exim.enabled);
    CHECK(exim.sources.at(0).logpaths == std::vector<std::string>{"/var/log/exim4/mainlog"});
    CHECK(exim.sources.at(0).filter.to_string() == "exim[mode=normal]");
    CHECK(exim.policy.maxretry == 3);
    CHECK(exim.policy.findtime == seconds{600});
    CHECK(exim.policy.bantime == seconds{3600});
    CHECK(exim.policy.maxtime == seconds{5 * 7 * 86400});
    CHECK(exim.policy.recidive_threshold == 50);
    CHECK(exim.policy.ipv6_prefix == 64);
    CHECK_FALSE(exim.policy.knock_extend);
    CHECK(exim.ports == std::vector<std::uint16_t>{25, 465, 587});
    CHECK(exim.blocktype == BlockType::drop);
    CHECK(ignored(exim, "127.1.2.3"));
    CHECK(ignored(exim, "::1"));
    CHECK(ignored(exim, "192.0.2.53")); // ignoreself
    CHECK_FALSE(ignored(exim, "192.0.2.54"));
    CHECK(config.database == "/var/lib/exim-ban/exim-ban.db");
    CHECK(config.socket == "/run/exim-ban/control.sock");
    CHECK(config.dnsbl_zone.empty());
    CHECK(config.filters_dir == "/etc/exim-ban/filters.d");
    CHECK(config.rotation_grace == seconds{300});
    CHECK(config.origins.at("exim").at("maxretry").from == "/etc/exim-ban/exim-ban.conf:15");
    CHECK(config.origins.at("exim").at("bantime").from == "/etc/exim-ban/exim-ban.conf:3");
    CHECK(config.origins.at("exim").at("recidive_bantime").from == "built-in default");
}

TEST_CASE("precedence: .conf, then .local, then conf.d/*.conf in name order", "[config]") {
    auto files = with_filters();
    files
        .add("/etc/exim-ban/exim-ban.conf",
             "[DEFAULT]\nbantime = 1h\n[exim]\nlogpath = /a\nmaxretry = 3\n")
        .add("/etc/exim-ban/exim-ban.local", "[DEFAULT]\nbantime = 2h\n[exim]\nmaxretry = 4\n")
        .add("/etc/exim-ban/conf.d/10-first.conf", "[exim]\nmaxretry = 6\nfindtime = 1h\n")
        .add("/etc/exim-ban/conf.d/20-second.conf", "[exim]\nmaxretry = 7\n")
        .add("/etc/exim-ban/conf.d/30-ignored.txt", "[exim]\nmaxretry = 99\n");
    const Config config = load(files);
    const JailConfig& exim = *config.jail("exim");
    CHECK(exim.policy.maxretry == 7);
    CHECK(exim.policy.bantime == seconds{7200});
    CHECK(exim.policy.findtime == seconds{3600});
    CHECK(config.origins.at("exim").at("maxretry").from == "/etc/exim-ban/conf.d/20-second.conf:2");
    CHECK_FALSE(exim.enabled); // fail2ban's habit: a jail is off until enabled
}

TEST_CASE("rotation_grace: from 0 (off) to 1h", "[config]") {
    for (const auto& [text, expected] : {std::pair{"0", seconds{0}}, std::pair{"1h", seconds{3600}},
                                         std::pair{"90", seconds{90}}}) {
        auto files = with_filters();
        files.add("/etc/exim-ban/exim-ban.conf",
                  std::string("[DEFAULT]\nrotation_grace = ") + text + "\n[exim]\nlogpath = /a\n");
        CHECK(load(files).rotation_grace == expected);
    }
}

TEST_CASE("trust: trust_time (0: off) and trust_maxretry per jail, trust_file in [DEFAULT]",
          "[config][trust]") {
    auto files = with_filters();
    files.add("/etc/exim-ban/exim-ban.conf",
              "[DEFAULT]\ntrust_file = trusted-hosts\ntrust_maxretry = 10\n"
              "[exim]\nlogpath = /a\ntrust_time = 0\n[other]\nlogpath = /b\nfilter = exim\n");
    const Config config = load(files);
    CHECK(config.trust_file == "/etc/exim-ban/trusted-hosts");
    REQUIRE(config.jails.size() == 2);
    CHECK(config.jails[0].policy.trust_time == seconds{0});
    CHECK(config.jails[0].policy.trust_maxretry == 10);
    CHECK(config.jails[1].policy.trust_time == seconds{30 * 86400});
    auto defaults = with_filters();
    defaults.add("/etc/exim-ban/exim-ban.conf", "[exim]\nlogpath = /a\n");
    CHECK(load(defaults).trust_file.empty());
    CHECK(load(defaults).jails[0].policy.trust_maxretry == 20);
}

TEST_CASE("ignoreip: addresses, networks and Exim host-list files", "[config]") {
    auto files = with_filters();
    files
        .add("/etc/exim-ban/exim-ban.conf",
             "[exim]\n"
             "logpath = /a\n"
             "ignoreself = false\n"
             "ignoreip = 198.51.100.0/24, 2001:db8:5::/48\n"
             "           file:/etc/exim4/whitelist_connect_hosts file:missing\n")
        .add("/etc/exim4/whitelist_connect_hosts",
             "# relays\n203.0.113.7\n203.0.113.64/26  # office\n"
             "mail.example.com\n\n2001:db8:9::1\n");
    const Config config = load(files, {*IpPrefix::parse("192.0.2.53")});
    const JailConfig& exim = *config.jail("exim");
    for (const char* listed :
         {"198.51.100.9", "2001:db8:5:ffff::1", "203.0.113.7", "203.0.113.100", "2001:db8:9::1"}) {
        CAPTURE(listed);
        CHECK(ignored(exim, listed));
    }
    CHECK_FALSE(ignored(exim, "203.0.113.8"));
    CHECK_FALSE(ignored(exim, "127.0.0.1"));  // the jail's list replaces the default
    CHECK_FALSE(ignored(exim, "192.0.2.53")); // ignoreself = false
    REQUIRE(config.warnings.size() == 2);
    CHECK_THAT(config.warnings[0],
               Catch::Contains("whitelist_connect_hosts:4") && Catch::Contains("mail.example.com"));
    CHECK_THAT(config.warnings[1], Catch::Contains("/etc/exim-ban/missing does not exist"));
}

TEST_CASE("every kind of bad input is an error with file:line and what to do", "[config]") {
    struct Bad {
        const char* text;
        const char* expected;
    };
    const Bad cases[] = {
        {"[exim]\nlogpath = /a\nmaxretries = 3\n",
         "exim-ban.conf:3: unknown setting \"maxretries\""},
        {"[exim]\nlogpath = /a\nbantime = 1 hour and a bit\n",
         "exim-ban.conf:3: bantime = 1 hour and a bit: expected a duration"},
        {"[exim]\nlogpath = /a\nfindtime = 0\n", "exim-ban.conf:3: findtime = 0"},
        {"[exim]\nlogpath = /a\nmaxretry = -1\n",
         "exim-ban.conf:3: maxretry = -1: expected a whole number"},
        {"[exim]\nlogpath = /a\nignoreip = 10.0.0.0/33\n",
         "exim-ban.conf:3: ignoreip = 10.0.0.0/33: \"10.0.0.0/33\" is not"},
        {"[exim]\nlogpath = /a\nignoreip = mail.example.com\n", "does no DNS"},
        {"[exim]\nlogpath = /a\nfilter = eximm\n",
         "exim-ban.conf:3: filter = eximm: no filter eximm.conf or eximm.patterns"},
        {"[exim]\nlogpath = /a\nfilter = exim[mode=more\n",
         "exim-ban.conf:3: filter = exim[mode=more: "},
        {"[Exim-Submission]\nlogpath = /a\n",
         "exim-ban.conf:2: [Exim-Submission]: a jail name must match"},
        {"[a_very_long_jail_name_over_24]\nlogpath = /a\n", "must match [a-z][a-z0-9_]{0,23}"},
        {"[exim]\nlogpath = /a\nports = 25,70000\n",
         "exim-ban.conf:3: ports = 70000: expected a whole number from 1 to 65535"},
        {"[exim]\nlogpath = /a\nblocktype = tarpit\n", "expected drop or reject"},
        {"[exim]\nlogpath = /a\ntrust_time = a month\n",
         "exim-ban.conf:3: trust_time = a month: expected a duration"},
        {"[exim]\nlogpath = /a\ntrust_maxretry = many\n",
         "exim-ban.conf:3: trust_maxretry = many: expected a whole number"},
        {"[exim]\nlogpath = /a\ntrust_file = /x\n",
         "exim-ban.conf:3: \"trust_file\" applies to the whole daemon: move it to [DEFAULT]"},
        {"[exim]\nlogpath = /a\nenabled = maybe\n",
         "exim-ban.conf:3: enabled = maybe: expected true or false"},
        {"[exim]\nlogpath = /a\nbantime.factor = 0.5\n",
         "bantime.factor = 0.5: expected a number from 1 to 100"},
        {"[exim]\nlogpath = /a\nipv6_prefix = 200\n", "ipv6_prefix = 200"},
        {"[exim]\nlogpath = /var/log/exim4/mainlog %(exim_main_log)s\n",
         "exim-ban.conf:2: logpath = /var/log/exim4/mainlog %(exim_main_log)s: expected absolute "
         "paths"},
        {"[exim]\nlogpath = mainlog\n", "logpath = mainlog: expected absolute paths"},
        {"[exim]\nlogpath = /a\nbantime.knock_extend = often\n",
         "exim-ban.conf:3: bantime.knock_extend = often: expected true or false"},
        {"[exim]\nlogpath = /a\ndatabase = /tmp/x.db\n",
         "exim-ban.conf:3: \"database\" applies to the whole daemon: move it to [DEFAULT]"},
        {"[DEFAULT]\ndatabase = relative.db\n",
         "exim-ban.conf:2: database = relative.db: expected an absolute path"},
        {"[exim]\nenabled = true\n", "[exim] is enabled but has no logpath"},
        {"[exim]\nlogpath = /a\njunk line\n", "exim-ban.conf:3: expected \"[section]\""},
        {"[DEFAULT]\nrotation_grace = 2h\n[exim]\nlogpath = /a\n",
         "exim-ban.conf:2: rotation_grace = 2h: expected a duration from 0 to 1h"},
        {"[DEFAULT]\nrotation_grace = soon\n[exim]\nlogpath = /a\n",
         "exim-ban.conf:2: rotation_grace = soon: expected a duration"},
        {"[exim]\nlogpath = /a\nrotation_grace = 1m\n",
         "\"rotation_grace\" applies to the whole daemon: move it to [DEFAULT]"},
        {"[exim]\nlogpath = journal\njournalmatch = exim\n",
         "exim-ban.conf:3: journalmatch = exim: \"exim\" is not FIELD=VALUE"},
        {"[exim]\nlogpath = journald\n", "logpath = journald: expected absolute paths"},
        {"[mail/dovecot]\nlogpath = /b\n",
         "exim-ban.conf:2: [mail/dovecot] adds a source to jail [mail], but there is no such jail"},
        {"[mail]\nlogpath = /a\nfilter = exim\n[mail/dovecot]\nlogpath = /b\nmaxretry = 3\n",
         "exim-ban.conf:6: \"maxretry\" cannot be set in source section [mail/dovecot] (only "
         "logpath, journalmatch and filter); the jail's settings go in [mail]"},
        {"[mail]\nlogpath = /a\nfilter = exim\n[mail/dovecot]\nfilter = exim\n",
         "exim-ban.conf:5: [mail/dovecot] has no logpath"},
        {"[mail]\nlogpath = /a\nfilter = exim\n[mail/Dovecot]\nlogpath = /b\n",
         "exim-ban.conf:5: [mail/Dovecot]: a source section is [JAIL/NAME]"},
        {"[mail]\nlogpath = /a\nfilter = exim\n[mail/imap]\nlogpath = /b\n",
         "exim-ban.conf:5: filter = imap: no filter imap.conf"},
    };
    for (const auto& bad : cases) {
        INFO(bad.text);
        auto files = with_filters();
        files.add("/etc/exim-ban/exim-ban.conf", bad.text);
        CHECK_THROWS_WITH(load(files), Catch::Contains(bad.expected));
    }
    CHECK_THROWS_WITH(load(with_filters()), Catch::Contains("exim-ban.conf: no such file"));
}

TEST_CASE("[JAIL/NAME] sections add sources to a jail: one count, the ports of every service",
          "[config]") {
    auto files = with_filters();
    files.add("/etc/exim-ban/filters.d/dovecot.conf", "[Definition]\nfailregex = ^y <HOST>$\n");
    files.add("/etc/exim-ban/exim-ban.conf", "[DEFAULT]\n"
                                             "logpath = /var/log/exim4/mainlog\n"
                                             "[mail]\n"
                                             "enabled = true\n"
                                             "filter = exim[mode=more]\n"
                                             "[mail/dovecot]\n"
                                             "logpath = journal\n"
                                             "journalmatch = _SYSTEMD_UNIT=dovecot.service\n"
                                             "[imap]\n"
                                             "logpath =\n"
                                             "[imap/dovecot]\n"
                                             "logpath = /var/log/dovecot.log\n"
                                             "[exim]\n");
    const Config config = load(files);
    REQUIRE(config.jails.size() == 3);
    const JailConfig& mail = *config.jail("mail");
    REQUIRE(mail.sources.size() == 2);
    CHECK(mail.sources[0].section == "mail");
    CHECK(mail.sources[0].logpaths == std::vector<std::string>{"/var/log/exim4/mainlog"});
    CHECK(mail.sources[0].filter.to_string() == "exim[mode=more]");
    CHECK(mail.sources[1].section == "mail/dovecot");
    CHECK(mail.sources[1].journal);
    CHECK(mail.sources[1].logpaths.empty());
    CHECK(mail.sources[1].filter.to_string() == "dovecot");
    REQUIRE(mail.sources[1].journalmatch);
    CHECK(config.origins.at("mail/dovecot").at("logpath").from == "/etc/exim-ban/exim-ban.conf:7");
    CHECK(mail.ports == std::vector<std::uint16_t>{25, 110, 143, 465, 587, 993, 995, 4190});
    CHECK(config.origins.at("mail").at("ports").value == "25,110,143,465,587,993,995,4190");

    // A jail without a logpath of its own reads only its source sections.
    const JailConfig& imap = *config.jail("imap");
    REQUIRE(imap.sources.size() == 1);
    CHECK(imap.sources[0].section == "imap/dovecot");
    CHECK(imap.ports == std::vector<std::uint16_t>{110, 143, 465, 587, 993, 995, 4190});
    CHECK(config.jail("exim")->ports == std::vector<std::uint16_t>{25, 465, 587});
}

TEST_CASE("host-list files", "[config]") {
    const HostList list = parse_host_list(
        "10.0.0.1\n  # comment\n10.1.0.0/16 # trailing\n*.example.com\n\n::1\n", "hosts");
    REQUIRE(list.networks.size() == 3);
    CHECK(list.networks[1].to_string() == "10.1.0.0/16");
    REQUIRE(list.warnings.size() == 1);
    CHECK_THAT(list.warnings[0], Catch::StartsWith("hosts:4:"));
}

TEST_CASE("logpath = journal reads the journal, with the jail's own journalmatch",
          "[config][journal]") {
    auto files = with_filters();
    files.add("/etc/exim-ban/exim-ban.conf",
              "[exim]\n"
              "enabled = true\n"
              "logpath = journal\n"
              "journalmatch = SYSLOG_IDENTIFIER=exim + _SYSTEMD_UNIT=exim4.service\n"
              "[both]\n"
              "enabled = true\n"
              "filter = exim\n"
              "logpath = /var/log/exim4/mainlog journal\n");
    const Config config = load(files);
    const JailConfig& exim = config.jails[0];
    CHECK(exim.sources.at(0).journal);
    CHECK(exim.sources.at(0).logpaths.empty());
    REQUIRE(exim.sources.at(0).journalmatch);
    CHECK(exim.sources.at(0).journalmatch->alternatives.size() == 2);
    CHECK(config.origins.at("exim").at("journalmatch").from == "/etc/exim-ban/exim-ban.conf:4");

    const JailConfig& both = config.jails[1];
    CHECK(both.sources.at(0).journal);
    CHECK(both.sources.at(0).logpaths == std::vector<std::string>{"/var/log/exim4/mainlog"});
    CHECK_FALSE(both.sources.at(0).journalmatch);
    CHECK(config.origins.at("both").at("journalmatch").from == "built-in default");
}
