#include "config/config_loader.hpp"
#include "import/fail2ban_jail.hpp"
#include "import/fail2ban_jail_files.hpp"
#include "support/in_memory_files.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using exim_ban::testing::InMemoryFiles;
using std::chrono::seconds;

namespace {

// The parts of Debian's fail2ban 1.0.2 jail.conf that the [exim] jail uses.
const char* stock_jail_conf = "[INCLUDES]\n"
                              "before = paths-debian.conf\n"
                              "\n"
                              "[DEFAULT]\n"
                              "#ignoreip = 127.0.0.1/8 ::1\n"
                              "ignorecommand =\n"
                              "bantime  = 10m\n"
                              "findtime  = 10m\n"
                              "maxretry = 5\n"
                              "backend = auto\n"
                              "ignoreself = true\n"
                              "enabled = false\n"
                              "mode = normal\n"
                              "filter = %(__name__)s[mode=%(mode)s]\n"
                              "port = 0:65535\n"
                              "\n"
                              "[exim]\n"
                              "# see filter.d/exim.conf for further modes supported from filter:\n"
                              "#mode = normal\n"
                              "port   = smtp,465,submission\n"
                              "logpath = %(exim_main_log)s\n"
                              "\n"
                              "[exim-spam]\n"
                              "port   = smtp,465,submission\n"
                              "logpath = %(exim_main_log)s\n";

const char* paths_debian = "[DEFAULT]\n"
                           "exim_main_log = /var/log/exim4/mainlog\n";

ImportTarget exim_target() {
    ImportTarget target;
    target.jail = "exim";
    target.ignoreip = "127.0.0.0/8 ::1";
    // As exim-ban's shipped filters: exim takes a mode, exim-spam does not.
    target.filter_error = [](const FilterSpec& spec) -> std::optional<std::string> {
        if (spec.name != "exim" && spec.name != "exim-spam")
            return "no filter " + spec.name + ".conf";
        if (spec.name == "exim-spam" && spec.parameters.contains("mode"))
            return "filter parameter \"mode\" is not used by this filter";
        return std::nullopt;
    };
    return target;
}

InMemoryFiles fail2ban_files(const std::string& jail_local) {
    InMemoryFiles files;
    files.add("/etc/fail2ban/jail.conf", stock_jail_conf);
    files.add("/etc/fail2ban/paths-debian.conf", paths_debian);
    if (!jail_local.empty())
        files.add("/etc/fail2ban/jail.local", jail_local);
    return files;
}

JailImport import_of(const std::string& jail_local, const std::string& jail = "exim",
                     const ImportTarget& target = exim_target()) {
    const auto files = fail2ban_files(jail_local);
    return map_fail2ban_jail(read_fail2ban_jail_files("/etc/fail2ban/jail.conf", files).sections,
                             jail, target);
}

const ImportedSetting* setting(const JailImport& import, const std::string& key) {
    for (const auto& imported : import.settings) {
        if (imported.key == key)
            return &imported;
    }
    return nullptr;
}

std::optional<std::string> value(const JailImport& import, const std::string& key) {
    const ImportedSetting* found = setting(import, key);
    return found == nullptr ? std::nullopt : std::optional{found->value};
}

bool warned(const JailImport& import, const std::string& part) {
    return std::any_of(import.warnings.begin(), import.warnings.end(),
                       [&](const std::string& w) { return w.find(part) != std::string::npos; });
}

} // namespace

TEST_CASE("Debian's stock [exim] jail, enabled in jail.local, maps key by key", "[import]") {
    const JailImport import = import_of("[DEFAULT]\n"
                                        "bantime = 1h\n"
                                        "ignoreip = 127.0.0.1/8 ::1 192.0.2.0/24\n"
                                        "\n"
                                        "[exim]\n"
                                        "enabled = true\n"
                                        "maxretry = 3\n"
                                        "bantime.increment = true\n"
                                        "bantime.maxtime = 1w\n");
    std::map<std::string, std::string> written;
    for (const auto& imported : import.settings)
        written[imported.key] = imported.value;
    CHECK(written == std::map<std::string, std::string>{
                         {"enabled", "true"},
                         {"logpath", "/var/log/exim4/mainlog"},
                         {"filter", "exim[mode=normal]"},
                         {"ports", "25,465,587"},
                         {"maxretry", "3"},
                         {"findtime", "10m"},
                         {"bantime", "1h"},
                         {"bantime.increment", "true"},
                         {"bantime.factor", "2"},
                         {"bantime.maxtime", "1w"},
                         {"ignoreself", "true"},
                         // exim-ban's list, with what fail2ban adds to it.
                         {"ignoreip", "127.0.0.0/8 ::1 192.0.2.0/24"},
                     });
    CHECK(import.warnings.empty());

    // Each names the file and line it was written on; a reference also
    // where it led.
    CHECK(setting(import, "maxretry")->origin == "/etc/fail2ban/jail.local:7: maxretry = 3");
    CHECK(setting(import, "findtime")->origin == "/etc/fail2ban/jail.conf:8: findtime = 10m");
    CHECK(setting(import, "logpath")->origin ==
          "/etc/fail2ban/jail.conf:21: logpath = %(exim_main_log)s "
          "(/etc/fail2ban/paths-debian.conf:2)");
}

TEST_CASE("the imported file loads as exim-ban's conf.d and says where each value came from",
          "[import]") {
    const JailImport import = import_of("[exim]\nenabled = true\nbantime = -1\n");
    const std::string text =
        import_conf_text(import, "exim",
                         {{"/etc/fail2ban/jail.conf", "/etc/fail2ban/jail.local"},
                          "/var/lib/fail2ban/fail2ban.sqlite3",
                          "exim",
                          "2024-05-01 12:00:00 UTC"});
    CHECK(text.starts_with("# Imported from fail2ban by `exim-banctl import-fail2ban` on "
                           "2024-05-01 12:00:00 UTC"));
    CHECK(text.find("#   /etc/fail2ban/jail.local\n") != std::string::npos);
    CHECK(text.find("# /etc/fail2ban/jail.local:3: bantime = -1 (permanent: bantime.maxtime)\n"
                    "bantime = 5w\n") != std::string::npos);
    CHECK(text.find("#   /etc/fail2ban/jail.local:3: bantime = -1: a permanent bantime") !=
          std::string::npos);

    InMemoryFiles exim_ban;
    exim_ban.add("/etc/exim-ban/exim-ban.conf", "[DEFAULT]\n\n[exim]\nmaxretry = 3\n");
    exim_ban.add("/etc/exim-ban/filters.d/exim.conf", "[Definition]\nfailregex = ^x <HOST>$\n");
    exim_ban.add("/etc/exim-ban/conf.d/50-fail2ban.conf", text);
    const Config config = load_config("/etc/exim-ban/exim-ban.conf", exim_ban, {});
    const JailConfig& jail = *config.jail("exim");
    CHECK(jail.enabled);
    CHECK(jail.policy.maxretry == 5);
    CHECK(jail.policy.bantime == seconds{5 * 7 * 86400});
    CHECK_FALSE(jail.policy.increment);
    CHECK(jail.ports == std::vector<std::uint16_t>{25, 465, 587});
    const auto maxretry_line = text.find("\nmaxretry = ") + 1;
    CHECK(config.origins.at("exim").at("maxretry").from ==
          "/etc/exim-ban/conf.d/50-fail2ban.conf:" +
              std::to_string(std::count(text.begin(), text.begin() + maxretry_line, '\n') + 1));
}

TEST_CASE("fail2ban's built-in bantime.increment (off) is written, being on in exim-ban",
          "[import]") {
    const JailImport import = import_of("[exim]\nenabled = true\n");
    CHECK(value(import, "bantime.increment") == "false");
    CHECK(setting(import, "bantime.increment")->origin ==
          "fail2ban's built-in default (exim-ban's is true)");
    // Growth settings mean nothing without increment.
    CHECK_FALSE(value(import, "bantime.factor"));
    CHECK_FALSE(value(import, "bantime.maxtime"));
}

TEST_CASE("a permanent bantime becomes bantime.maxtime, fail2ban's or exim-ban's", "[import]") {
    JailImport import = import_of("[exim]\nbantime = -1\nbantime.maxtime = 2w\n");
    CHECK(value(import, "bantime") == "2w");
    CHECK(warned(import, "exim-ban has no permanent bans"));

    ImportTarget target = exim_target();
    target.policy.maxtime = seconds{3 * 86400};
    import = import_of("[exim]\nbantime = -1\n", "exim", target);
    CHECK(value(import, "bantime") == "3d");
}

TEST_CASE("bantime growth: fail2ban's formula doubles, exim-ban multiplies by factor", "[import]") {
    SECTION("the default formula is factor 2") {
        const JailImport import = import_of("[exim]\nbantime.increment = true\n");
        CHECK(value(import, "bantime.factor") == "2");
        CHECK(warned(import, "sets no bantime.maxtime"));
    }
    SECTION("fail2ban's factor on top of the doubling has no equivalent") {
        const JailImport import =
            import_of("[exim]\nbantime.increment = true\nbantime.factor = 4\n");
        CHECK(value(import, "bantime.factor") == "2");
        CHECK(warned(import, "0.25 times what fail2ban gave"));
    }
    SECTION("geometric multipliers are a factor, their last one a cap") {
        const JailImport import = import_of("[exim]\nenabled = true\nbantime = 1h\n"
                                            "bantime.increment = true\n"
                                            "bantime.multipliers = 1 2 4 8 16 32 64\n"
                                            "bantime.maxtime = 4w\n");
        CHECK(value(import, "bantime.factor") == "2");
        CHECK(value(import, "bantime.maxtime") == "2d16h");
        CHECK(import.warnings.empty());
    }
    SECTION("other multipliers are refused, saying why") {
        const JailImport import = import_of("[exim]\nbantime.increment = true\n"
                                            "bantime.multipliers = 1 5 30 60 300 720 1440 2880\n");
        CHECK_FALSE(value(import, "bantime.factor"));
        CHECK(warned(import, "do not grow by one ratio"));
    }
    SECTION("a formula is refused") {
        const JailImport import = import_of(
            "[exim]\nbantime.increment = true\n"
            "bantime.formula = ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1)\n");
        CHECK_FALSE(value(import, "bantime.factor"));
        CHECK(warned(import, "it has no formula"));
    }
    SECTION("random time and counting over all jails are not followed") {
        const JailImport import = import_of("[exim]\nbantime.increment = true\n"
                                            "bantime.rndtime = 5m\nbantime.overalljails = true\n");
        CHECK(warned(import, "bantime.rndtime = 5m: exim-ban adds no random time"));
        CHECK(warned(import, "counts a host's earlier bans per jail"));
    }
}

TEST_CASE("what exim-ban cannot follow is a warning and leaves the key alone", "[import]") {
    struct Case {
        const char* jail_local;
        const char* key;
        const char* value;   // nullptr: not written
        const char* warning; // "": none needed
    };
    const Case cases[] = {
        // fail2ban reads the journal then, and so does exim-ban.
        {"[exim]\nenabled = true\nbackend = systemd\nlogpath = /var/log/exim4/mainlog\n", "logpath",
         "journal", ""},
        {"[exim]\nenabled = true\nbackend = systemd\n", "enabled", "true", ""},
        {"[exim]\nbackend = systemd\njournalmatch = _SYSTEMD_UNIT=exim4.service + "
         "SYSLOG_IDENTIFIER=exim\n",
         "journalmatch", "_SYSTEMD_UNIT=exim4.service + SYSLOG_IDENTIFIER=exim", ""},
        {"[exim]\nbackend = systemd\njournalmatch = exim\n", "journalmatch", nullptr,
         "not a journal match exim-ban reads"},
        {"[exim]\nport = pop3,pop3s,imap,imaps,submission,465,sieve\n", "ports",
         "110,995,143,993,587,465,4190", ""},
        // A jail fail2ban does not run: imported, but not switched on.
        {"", "enabled", nullptr, "fail2ban's [exim] is not enabled"},
        {"", "logpath", "/var/log/exim4/mainlog", ""},
        {"[exim]\nlogpath = /var/log/exim4/mainlog tail\n  /var/log/exim/main.log\n", "logpath",
         "/var/log/exim4/mainlog /var/log/exim/main.log", ""},
        {"[exim]\nlogpath = /var/log/exim4/mainlog\n  exim/mainlog\n", "logpath", nullptr,
         "log paths that start with '/' only"},
        {"[exim]\nlogpath = %(no_such_log)s\n", "logpath", nullptr,
         "logpath = %(no_such_log)s: cannot be resolved"},
        {"[exim]\nignoreip = 192.0.2.1 mx.example.com 10.0.0.0/255.0.0.0, ::1\n", "ignoreip",
         "127.0.0.0/8 ::1 192.0.2.1", "\"mx.example.com\" is no IP address"},
        {"[exim]\nignoreip = 10.0.0.0/255.0.0.0\n", "ignoreip", nullptr,
         "\"10.0.0.0/255.0.0.0\" is no IP address"},
        // What exim-ban's list covers already adds nothing.
        {"[exim]\nignoreip = 127.0.0.1/8 ::1 127.0.0.5\n", "ignoreip", nullptr, ""},
        {"[exim]\nignorecommand = /usr/local/bin/is-friend <ip>\n", "ignoreip", nullptr,
         "runs no command"},
        {"[exim]\nfilter = exim-custom\n", "filter", nullptr,
         "exim-ban cannot load the filter exim-custom (no filter exim-custom.conf)"},
        {"[exim]\nport = smtp,pop2\n", "ports", nullptr, "\"pop2\" is no port"},
        {"[exim]\nport = 0:65535\n", "ports", "all", ""},
        {"[exim]\nfindtime = 1year-6mo\n", "findtime", nullptr,
         "findtime = 1year-6mo: exim-ban reads durations"},
        {"[exim]\nmaxretry = 0\n", "maxretry", nullptr,
         "maxretry = 0: exim-ban's maxretry is a whole number"},
    };
    for (const Case& c : cases) {
        INFO(c.jail_local << c.key);
        const JailImport import = import_of(c.jail_local);
        CHECK(value(import, c.key) ==
              (c.value == nullptr ? std::nullopt : std::optional<std::string>(c.value)));
        if (*c.warning != '\0')
            CHECK(warned(import, c.warning));
    }
}

TEST_CASE("a new exim-ban jail: fail2ban's exim-spam becomes exim_spam", "[import]") {
    CHECK(exim_ban_jail_name("exim-spam") == "exim_spam");
    CHECK(exim_ban_jail_name("Exim") == "exim");
    CHECK_FALSE(exim_ban_jail_name("2exim"));
    CHECK_FALSE(exim_ban_jail_name("exim.spam"));
    CHECK_FALSE(exim_ban_jail_name("a-jail-name-longer-than-24"));

    ImportTarget target = exim_target();
    target.jail = "exim_spam";
    target.ignoreip.reset();
    const JailImport import =
        import_of("[exim-spam]\nenabled = true\nignoreip = 192.0.2.7\n", "exim-spam", target);
    CHECK(value(import, "filter") == "exim-spam");
    CHECK(warned(import, "parameter mode=normal dropped: filter parameter \"mode\" is not used"));
    CHECK(value(import, "ignoreip") == "127.0.0.0/8 ::1 192.0.2.7");
    CHECK(warned(import, "[exim_spam] is new in exim-ban"));
}
