#include "core/load_error.hpp"
#include "import/fail2ban_jail_files.hpp"
#include "support/in_memory_files.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using exim_ban::testing::InMemoryFiles;

namespace {

std::string value(const Fail2banJailFiles& jail, const std::string& key) {
    return join_lines(jail.sections.interpolated("exim", key));
}

} // namespace

TEST_CASE("fail2ban's order: jail.conf, jail.d/*.conf, jail.local, jail.d/*.local", "[import]") {
    InMemoryFiles files;
    files.add("/etc/fail2ban/jail.conf", "[INCLUDES]\nbefore = paths-debian.conf\n"
                                         "[DEFAULT]\nbantime = 10m\n[exim]\n"
                                         "logpath = %(exim_main_log)s\n");
    files.add("/etc/fail2ban/paths-debian.conf",
              "[DEFAULT]\nexim_main_log = /var/log/exim4/mainlog\n");
    files.add("/etc/fail2ban/jail.d/b.local", "[exim]\nbantime = 4h\n");
    files.add("/etc/fail2ban/jail.d/a.local", "[exim]\nbantime = 3h\nmaxretry = 2\n");
    files.add("/etc/fail2ban/jail.local", "[exim]\nbantime = 2h\nmaxretry = 9\n");
    files.add("/etc/fail2ban/jail.d/defaults-debian.conf", "[exim]\nbantime = 1h\nenabled = 1\n");
    files.add("/etc/fail2ban/jail.d/README", "[exim]\nbantime = never read\n");

    // Either file of the set names the whole set.
    for (const char* given : {"/etc/fail2ban/jail.conf", "/etc/fail2ban/jail.local"}) {
        const Fail2banJailFiles jail = read_fail2ban_jail_files(given, files);
        CHECK(value(jail, "bantime") == "4h");
        CHECK(value(jail, "maxretry") == "2");
        CHECK(value(jail, "enabled") == "1");
        CHECK(value(jail, "logpath") == "/var/log/exim4/mainlog");
        CHECK(jail.files ==
              std::vector<std::string>{"/etc/fail2ban/paths-debian.conf", "/etc/fail2ban/jail.conf",
                                       "/etc/fail2ban/jail.d/defaults-debian.conf",
                                       "/etc/fail2ban/jail.local", "/etc/fail2ban/jail.d/a.local",
                                       "/etc/fail2ban/jail.d/b.local"});
    }
}

TEST_CASE("the file given must exist, the rest of its set need not", "[import]") {
    InMemoryFiles files;
    files.add("/srv/f2b/jail.local", "[exim]\nenabled = true\n");
    const Fail2banJailFiles jail = read_fail2ban_jail_files("/srv/f2b/jail.local", files);
    CHECK(jail.files == std::vector<std::string>{"/srv/f2b/jail.local"});
    CHECK(jail.sections.has_section("exim"));
    CHECK_THROWS_AS(read_fail2ban_jail_files("/srv/f2b/jail.conf", files), LoadError);
}

TEST_CASE("a missing include is the include's error, with where it was named", "[import]") {
    InMemoryFiles files;
    files.add("/etc/fail2ban/jail.conf", "[INCLUDES]\nbefore = paths-gone.conf\n[exim]\n");
    CHECK_THROWS_WITH(read_fail2ban_jail_files("/etc/fail2ban/jail.conf", files),
                      Catch::Contains("/etc/fail2ban/jail.conf:2") &&
                          Catch::Contains("paths-gone.conf, which does not exist"));
}
