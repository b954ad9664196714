#include "band/threaded_ban_listing.hpp"
#include "firewall/firewall_jail.hpp"
#include "store/sqlite_store.hpp"
#include "support/fake_firewall.hpp"
#include "support/run_until.hpp"
#include "support/temp_dir.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using namespace exim_ban;
using exim_ban::testing::FakeFirewall;
using exim_ban::testing::TempDir;
using nlohmann::json;

namespace {

const BanKey first = *IpPrefix::parse("192.0.2.1");  // exim's, with two hits
const BanKey second = *IpPrefix::parse("192.0.2.2"); // other's

// A store with a ban in each of two jails; the kernel holds the first.
struct Rig {
    Rig() {
        Batch batch;
        batch.hits.push_back({"exim", first, 900, 0});
        batch.hits.push_back({"exim", first, 901, 0});
        batch.bans.push_back({"exim", first, 1000, 5000, "maxretry", "log"});
        batch.bans.push_back({"other", second, 1100, 5000, "maxretry", "log"});
        REQUIRE_FALSE(store.commit(batch));
        for (FakeFirewall* firewall : {&daemon_firewall, own_firewall.get()}) {
            firewall->setup({FirewallJail{"exim", {25}, Verdict::drop, 64},
                             FirewallJail{"other", {25}, Verdict::drop, 64}});
            firewall->add("exim", first, std::chrono::seconds{4000});
            REQUIRE(firewall->commit().ok());
        }
    }

    void ask(BanListing& listing, std::vector<std::string> jails) {
        listing.list(std::move(jails), 2'000'000,
                     [this](std::string line) { replies.push_back(json::parse(line)); });
    }
    void run_until_replied(std::size_t count) {
        REQUIRE(exim_ban::testing::run_until(
            io, [&] { return replies.size() >= count; }, std::chrono::seconds(10)));
    }

    TempDir dir;
    SqliteStore store{dir / "state.db"};
    boost::asio::io_context io;
    // The daemon's loop always has work (its signals); a reply is posted later.
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> busy =
        boost::asio::make_work_guard(io);
    FakeFirewall daemon_firewall;
    std::unique_ptr<FakeFirewall> own_firewall = std::make_unique<FakeFirewall>();
    std::vector<json> replies; // on the io_context's thread: this one
};

} // namespace

TEST_CASE("threaded ban listing: the store's bans with their hits and the listing's own kernel, "
          "replied on the io_context's thread in the order asked",
          "[band]") {
    Rig rig;
    FakeFirewall* own = rig.own_firewall.get();
    ThreadedBanListing listing(rig.io, rig.dir / "state.db", rig.daemon_firewall,
                               std::move(rig.own_firewall));
    own->add("other", second, std::chrono::seconds{400});
    REQUIRE(own->commit().ok());
    rig.ask(listing, {"exim", "other"});
    rig.ask(listing, {"other"});
    rig.ask(listing, {"other"});
    rig.run_until_replied(3);
    const json& both = rig.replies[0]["bans"];
    REQUIRE(both.size() == 2);
    CHECK(both[0]["key"] == "192.0.2.1");
    // The hits not yet checkpointed count, as the daemon's history() has them.
    CHECK(both[0]["hits"] == 2);
    CHECK(both[1]["packets"] == 0); // in the listing's own firewall only
    for (std::size_t i : {1, 2}) {
        REQUIRE(rig.replies[i]["bans"].size() == 1);
        CHECK(rig.replies[i]["bans"][0]["jail"] == "other");
    }
}

TEST_CASE("threaded ban listing: without a firewall of its own it lists the daemon's when asked",
          "[band]") {
    Rig rig;
    ThreadedBanListing listing(rig.io, rig.dir / "state.db", rig.daemon_firewall, nullptr);
    rig.ask(listing, {"exim", "other"});
    // Changed after the ask: the list holds the kernel as it was then.
    rig.daemon_firewall.add("other", second, std::chrono::seconds{400});
    REQUIRE(rig.daemon_firewall.commit().ok());
    rig.run_until_replied(1);
    CHECK(rig.replies[0]["bans"][0]["packets"] == 0);
    CHECK(rig.replies[0]["bans"][1]["packets"].is_null());
}

TEST_CASE("threaded ban listing: a database that cannot be opened fails the list", "[band]") {
    Rig rig;
    ThreadedBanListing listing(rig.io, rig.dir / "missing.db", rig.daemon_firewall, nullptr);
    rig.ask(listing, {"exim"});
    rig.run_until_replied(1);
    CHECK(rig.replies[0]["ok"] == false);
    CHECK(rig.replies[0]["error"].get<std::string>().find("missing.db") != std::string::npos);
}
