#include "import/overlay_files.hpp"
#include "support/in_memory_files.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using exim_ban::testing::InMemoryFiles;
using Paths = std::vector<std::filesystem::path>;

TEST_CASE("one file shown with the text it will have, or as absent", "[import]") {
    InMemoryFiles disk;
    disk.add("/etc/exim-ban/conf.d/10-site.conf", "a");
    disk.add("/etc/exim-ban/conf.d/50-fail2ban.conf", "old");
    disk.add("/etc/exim-ban/conf.d/90-late.conf", "b");

    const OverlayFiles absent(disk, "/etc/exim-ban/conf.d/50-fail2ban.conf", std::nullopt);
    CHECK_FALSE(absent.read("/etc/exim-ban/conf.d/50-fail2ban.conf"));
    CHECK(absent.read("/etc/exim-ban/conf.d/10-site.conf") == "a");
    CHECK(absent.list("/etc/exim-ban/conf.d") ==
          Paths{"/etc/exim-ban/conf.d/10-site.conf", "/etc/exim-ban/conf.d/90-late.conf"});

    const OverlayFiles replaced(disk, "/etc/exim-ban/conf.d/50-fail2ban.conf", "new");
    CHECK(replaced.read("/etc/exim-ban/conf.d/50-fail2ban.conf") == "new");
    CHECK(replaced.list("/etc/exim-ban/conf.d") == Paths{"/etc/exim-ban/conf.d/10-site.conf",
                                                         "/etc/exim-ban/conf.d/50-fail2ban.conf",
                                                         "/etc/exim-ban/conf.d/90-late.conf"});

    // A conf.d that does not exist yet holds the new file alone.
    const OverlayFiles fresh(disk, "/etc/other/conf.d/50-fail2ban.conf", "new");
    CHECK(fresh.list("/etc/other/conf.d") == Paths{"/etc/other/conf.d/50-fail2ban.conf"});
    CHECK(fresh.list("/etc/exim-ban/conf.d").size() == 3);
}
