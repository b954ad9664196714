#include "store/ban_list_reader.hpp"
#include "store/sqlite_store.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using exim_ban::testing::TempDir;

namespace {

const BanKey counted = *IpPrefix::parse("192.0.2.1");
const BanKey renewed = *IpPrefix::parse("2001:db8:1:2::/64");

std::vector<std::string> keys_of(const std::vector<ListedBan>& bans) {
    std::vector<std::string> keys;
    for (const auto& listed : bans)
        keys.push_back(listed.ban.jail + " " + listed.ban.key.to_string());
    return keys;
}

} // namespace

TEST_CASE("ban list reader: the active bans oldest first, with the hits the daemon's history "
          "counts, checkpointed or not",
          "[store]") {
    TempDir dir;
    SqliteStore store(dir / "state.db");
    Batch first;
    for (int i = 0; i < 3; ++i)
        first.hits.push_back({"exim", counted, 900 + i, 0});
    first.bans.push_back({"exim", counted, 1000, 5000, "maxretry", "log"});
    first.bans.push_back({"exim", renewed, 1100, 5000, "maxretry", "log"});
    first.bans.push_back({"other", counted, 1200, 1400, "maxretry", "log"}); // over by 1500
    REQUIRE_FALSE(store.commit(first));
    REQUIRE_FALSE(store.checkpoint_counts());
    Batch second; // its hits are not checkpointed yet
    second.hits.push_back({"exim", counted, 950, 0});
    second.hits.push_back({"exim", renewed, 960, 0});
    second.unbans.push_back({"exim", renewed, 1300});
    second.bans.push_back({"exim", renewed, 1300, 7000, "manual", "manual"});
    REQUIRE_FALSE(store.commit(second));

    BanListReader reader(dir / "state.db");
    const auto bans = reader.active_bans(1500);
    REQUIRE(bans);
    CHECK(keys_of(bans.value()) ==
          std::vector<std::string>{"exim 192.0.2.1", "exim 2001:db8:1:2::/64"});
    CHECK(bans->at(0).lifetime_hits == 4);
    CHECK(bans->at(0).lifetime_hits == store.history("exim", counted)->lifetime_hits);
    CHECK(bans->at(1).ban.reason == "manual");
    CHECK(bans->at(1).lifetime_hits == 1);
    CHECK(reader.active_bans(6000)->size() == 1);
}

TEST_CASE("ban list reader: a database that cannot be opened is a failure, and a later read "
          "opens it",
          "[store]") {
    TempDir dir;
    BanListReader reader(dir / "state.db");
    const auto missing = reader.active_bans(0);
    REQUIRE_FALSE(missing);
    CHECK(missing.failure().message.find("state.db") != std::string::npos);
    SqliteStore store(dir / "state.db");
    Batch batch;
    batch.bans.push_back({"exim", counted, 1000, 5000, "maxretry", "log"});
    REQUIRE_FALSE(store.commit(batch));
    const auto found = reader.active_bans(1500);
    REQUIRE(found);
    CHECK(found->size() == 1);
}
