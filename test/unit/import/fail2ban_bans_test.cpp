#include "import/fail2ban_bans.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using std::chrono::seconds;

namespace {

constexpr std::int64_t now = 1'700'000'000;

JailConfig exim_jail() {
    JailConfig jail;
    jail.name = "exim";
    jail.policy.ipv6_prefix = 64;
    jail.policy.maxtime = seconds{5 * 7 * 86400};
    for (const char* network : {"127.0.0.0/8", "::1", "192.0.2.250"})
        jail.ignore.add(*IpPrefix::parse(network));
    return jail;
}

BanKey key(const char* text) {
    return *IpPrefix::parse(text);
}

std::vector<StoredBan> nothing_stored(const BanKey&) {
    return {};
}

std::vector<StoredBan> bans_of(const BanImport& import, const char* text) {
    std::vector<StoredBan> found;
    for (const auto& ban : import.batch.bans) {
        if (ban.key == key(text))
            found.push_back(ban);
    }
    return found;
}

std::vector<StoredBan> current_of(const BanImport& import, const char* text) {
    auto found = bans_of(import, text);
    std::erase_if(found, [](const StoredBan& ban) { return ban.expires <= now; });
    return found;
}

} // namespace

TEST_CASE("current bans keep their remaining time; earlier ones end in the past", "[import]") {
    // 198.51.100.7: banned twice, the second ban (2h, doubled) still on.
    const std::vector<Fail2banBanRow> bips = {
        {"198.51.100.7", now - 600, 7200, 2},
        {"203.0.113.5", now - 7200, 3600, 1}, // over an hour ago: expired
    };
    const std::vector<Fail2banBanRow> bans = {
        {"198.51.100.7", now - 9000, 3600, 1},
        {"198.51.100.7", now - 600, 7200, 2},
        {"203.0.113.5", now - 7200, 3600, 1},
    };
    const BanImport import = map_fail2ban_bans(bips, bans, exim_jail(), now, nothing_stored);
    CHECK(import.current_v4 == 1);
    CHECK(import.current_v6 == 0);
    CHECK(import.history == 2);
    CHECK(import.skipped == std::map<std::string, std::size_t>{{"expired", 1}});

    const auto current = current_of(import, "198.51.100.7");
    REQUIRE(current.size() == 1);
    CHECK(current[0].jail == "exim");
    CHECK(current[0].start == now - 600);
    CHECK(current[0].expires == now + 6600);
    CHECK(current[0].reason == "fail2ban");
    CHECK(current[0].origin == "import");

    const auto earlier = bans_of(import, "198.51.100.7");
    REQUIRE(earlier.size() == 2);
    CHECK(earlier[0].start == now - 9000);
    CHECK(earlier[0].expires == now - 5400);
    // The expired one is history: its next ban escalates.
    const auto expired = bans_of(import, "203.0.113.5");
    REQUIRE(expired.size() == 1);
    CHECK(expired[0].expires == now - 3600);
}

TEST_CASE("bans fail2ban has purged still count: bancount gives their number", "[import]") {
    // Banned four times; the bans table kept only the last.
    const BanImport import =
        map_fail2ban_bans({{"198.51.100.8", now - 60, 28800, 4}},
                          {{"198.51.100.8", now - 60, 28800, 4}}, exim_jail(), now, nothing_stored);
    CHECK(import.current_v4 == 1);
    CHECK(import.history == 3);
    const auto all = bans_of(import, "198.51.100.8");
    CHECK(std::count_if(all.begin(), all.end(), [](const StoredBan& ban) {
              return ban.start == now - 60 && ban.expires == now - 60;
          }) == 3);
}

TEST_CASE("a permanent ban lasts bantime.maxtime from the import", "[import]") {
    const BanImport import = map_fail2ban_bans({{"198.51.100.9", now - 86400 * 30, -1, 1}}, {},
                                               exim_jail(), now, nothing_stored);
    const auto current = current_of(import, "198.51.100.9");
    REQUIRE(current.size() == 1);
    CHECK(current[0].expires == now + 5 * 7 * 86400);
    CHECK(import.history == 0);
}

TEST_CASE("IPv6 addresses become their /64; IPv4-mapped ones IPv4", "[import]") {
    const std::vector<Fail2banBanRow> bips = {
        {"2001:db8:1:2::10", now - 100, 3600, 1},
        {"2001:db8:1:2::20", now - 50, 3600, 2}, // same /64, ends later: it stands
        {"2001:db8:9::1", now - 100, 3600, 1},
        {"::ffff:192.0.2.33", now - 100, 3600, 1},
    };
    const BanImport import = map_fail2ban_bans(bips, {}, exim_jail(), now, nothing_stored);
    CHECK(import.current_v4 == 1);
    CHECK(import.current_v6 == 2);
    CHECK(import.skipped == std::map<std::string, std::size_t>{{"same /64", 1}});

    const auto network = current_of(import, "2001:db8:1:2::/64");
    REQUIRE(network.size() == 1);
    CHECK(network[0].start == now - 50);
    // The other address's ban and the stander's earlier one are its history.
    CHECK(bans_of(import, "2001:db8:1:2::/64").size() == 3);
    CHECK(current_of(import, "192.0.2.33").size() == 1);
    CHECK(current_of(import, "2001:db8:9::/64").size() == 1);
}

TEST_CASE("loopback, ignored and unreadable addresses are skipped with their history", "[import]") {
    const std::vector<Fail2banBanRow> bips = {
        {"127.0.0.2", now - 10, 3600, 1},    {"::1", now - 10, 3600, 1},
        {"192.0.2.250", now - 10, 3600, 3},  {"mail.example.com", now - 10, 3600, 1},
        {"192.0.2.0/24", now - 10, 3600, 1},
    };
    const std::vector<Fail2banBanRow> bans = {{"192.0.2.250", now - 9000, 600, 1}};
    const BanImport import = map_fail2ban_bans(bips, bans, exim_jail(), now, nothing_stored);
    CHECK(import.batch.bans.empty());
    CHECK(import.skipped == std::map<std::string, std::size_t>{
                                {"ignored", 1}, {"loopback", 2}, {"not an address", 2}});
    CHECK(import.skipped_total() == 5);
}

TEST_CASE("an IPv6 network that holds an ignored address is not banned", "[import]") {
    JailConfig jail = exim_jail();
    jail.ignore.add(*IpPrefix::parse("2001:db8:5:5::25"));
    const BanImport import =
        map_fail2ban_bans({{"2001:db8:5:5::99", now - 10, 3600, 1}}, {}, jail, now, nothing_stored);
    CHECK(import.batch.bans.empty());
    CHECK(import.skipped.at("ignored") == 1);
}

TEST_CASE("importing again adds nothing, and an active exim-ban ban is kept", "[import]") {
    const std::vector<Fail2banBanRow> bips = {{"198.51.100.7", now - 600, 7200, 3},
                                              {"198.51.100.20", now - 600, 3600, 2}};
    const std::vector<Fail2banBanRow> bans = {{"198.51.100.7", now - 9000, 3600, 1}};
    const BanImport first = map_fail2ban_bans(bips, bans, exim_jail(), now, nothing_stored);
    CHECK(first.current_v4 == 2);
    CHECK(first.history == 3);

    std::vector<StoredBan> stored = first.batch.bans;
    const auto stored_of = [&](const BanKey& wanted) {
        std::vector<StoredBan> found;
        for (const auto& ban : stored) {
            if (ban.key == wanted)
                found.push_back(ban);
        }
        return found;
    };
    const BanImport again = map_fail2ban_bans(bips, bans, exim_jail(), now, stored_of);
    CHECK(again.batch.bans.empty());
    CHECK(again.skipped == std::map<std::string, std::size_t>{{"already imported", 2}});

    // exim-band banned 198.51.100.30 itself meanwhile: that ban stands.
    stored = {{"exim", key("198.51.100.30"), now - 5, now + 3600, "maxretry", "log", 0}};
    const BanImport banned =
        map_fail2ban_bans({{"198.51.100.30", now - 600, 3600, 2}}, {}, exim_jail(), now, stored_of);
    CHECK(banned.skipped == std::map<std::string, std::size_t>{{"already banned", 1}});
    CHECK(banned.history == 1);
    CHECK(banned.current_v4 == 0);
}
