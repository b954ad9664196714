#include "core/jail_name.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

TEST_CASE("jail names follow the nftables-safe rule", "[jail_name]") {
    for (const char* good : {"exim", "a", "exim_submission", "x1", "abcdefghijklmnopqrstuvwx"}) {
        INFO(good);
        CHECK(is_jail_name(good));
    }
    for (const char* bad : {"", "1exim", "_exim", "Exim", "exim-spam", "exim spam", "exim.v4",
                            "abcdefghijklmnopqrstuvwxy", "\xC3\xA9xim"}) {
        INFO(bad);
        CHECK_FALSE(is_jail_name(bad));
    }
}
