#include "band/band_control.hpp"
#include "filter/filter_loader.hpp"
#include "filter/text_file_reader.hpp"
#include "support/fake_ban_listing.hpp"
#include "support/fake_band.hpp"
#include "support/fake_store.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace exim_ban;
using exim_ban::testing::FakeBand;
using exim_ban::testing::FakeBanListing;
using exim_ban::testing::FakeStore;
using nlohmann::json;

namespace {

BanKey key(const char* text) {
    return *IpPrefix::parse(text);
}

struct Rig {
    Rig() {
        for (const char* name : {"exim", "submission"}) {
            JailConfig config;
            config.name = name;
            config.policy.maxretry = 3;
            config.policy.bantime = std::chrono::seconds{600};
            config.ignore.add(*IpPrefix::parse("203.0.113.0/24"));
            band.jail_runtimes.push_back(
                std::make_unique<JailRuntime>(config, std::vector<LoadedFilter>{filter}));
        }
        band.now_ms = 2'000'000;
    }

    // The reply to a request answered at once.
    json ask(const json& body) {
        ControlRequest request{body["cmd"].get<std::string>(), body};
        auto reply = control.handle(request, [](std::string) { FAIL("answered later"); });
        REQUIRE(reply);
        return *reply;
    }

    const LoadedFilter filter =
        load_filter(FilterSpec{"exim", {}}, EXIM_BAN_FILTERS_DIR, DiskTextFileReader{});
    FakeBand band;
    FakeStore store;
    FakeBanListing listing;
    BandControl control{band, band, store, listing};
};

} // namespace

TEST_CASE("band control: status shows the uptime, the jails, their policy and the files",
          "[band]") {
    Rig rig;
    rig.band.up = std::chrono::seconds{3725};
    rig.band.stats.lines = 12;
    rig.band.stats.bans = 2;
    rig.band.files.push_back({{"/var/log/exim4/mainlog", 1, 7, "", 40}, LogLag{100, 60}});
    rig.band.files.push_back({{"/nonexistent/rejectlog", 1, 8, "", 5}, std::nullopt});
    const json reply = rig.ask({{"cmd", "status"}});
    CHECK(reply["ok"] == true);
    CHECK(reply["uptime_s"] == 3725);
    REQUIRE(reply["jails"].size() == 2);
    CHECK(reply["jails"][1]["name"] == "submission");
    CHECK(reply["jails"][0]["maxretry"] == 3);
    CHECK(reply["jails"][0]["bantime"] == 600);
    REQUIRE(reply["files"].size() == 2);
    CHECK(reply["files"][0] == json{{"path", "/var/log/exim4/mainlog"},
                                    {"inode", 7},
                                    {"offset", 40},
                                    {"size", 100},
                                    {"lag_bytes", 60}});
    // A path that cannot be stat()ed: no size, no lag.
    CHECK(reply["files"][1] == json{{"path", "/nonexistent/rejectlog"},
                                    {"inode", 8},
                                    {"offset", 5},
                                    {"size", nullptr},
                                    {"lag_bytes", nullptr}});
    CHECK(reply["lines"] == 12);
    CHECK(reply["bans"] == 2);
}

TEST_CASE("band control: status's files and uptime are written as exim-banctl reads them",
          "[band]") {
    Rig rig;
    rig.band.up = std::chrono::seconds{61};
    rig.band.files.push_back({{"/var/log/exim4/mainlog", 1, 7, "", 40}, LogLag{100, 60}});
    rig.band.files.push_back({{"/nonexistent/rejectlog", 1, 8, "", 5}, std::nullopt});
    const std::string files = rig.ask({{"cmd", "status"}})["files"].dump();
    CHECK(files == R"([{"inode":7,"lag_bytes":60,"offset":40,"path":"/var/log/exim4/mainlog",)"
                   R"("size":100},{"inode":8,"lag_bytes":null,"offset":5,)"
                   R"("path":"/nonexistent/rejectlog","size":null}])");
    CHECK(rig.ask({{"cmd", "status"}}).dump().find(R"("uptime_s":61)") != std::string::npos);
}

TEST_CASE("band control: list is answered later, by the listing, for the jail asked", "[band]") {
    Rig rig;
    rig.listing.bans = std::vector<ListedBan>{
        {{"exim", key("192.0.2.1"), 1000, 3000, "maxretry", "log"}, 4},
        {{"submission", key("192.0.2.2"), 1000, 3000, "maxretry", "log"}, 5}};
    std::vector<std::string> lines;
    const ControlRequest request{"list", {{"cmd", "list"}, {"jail", "exim"}}};
    CHECK_FALSE(rig.control.handle(request, [&](std::string line) { lines.push_back(line); }));
    CHECK(lines.empty());
    REQUIRE(rig.listing.asked().size() == 1);
    CHECK(rig.listing.asked()[0].jails == std::vector<std::string>{"exim"});
    CHECK(rig.listing.asked()[0].now_ms == 2'000'000);
    rig.listing.answer();
    REQUIRE(lines.size() == 1);
    const json reply = json::parse(lines[0]);
    REQUIRE(reply["bans"].size() == 1);
    CHECK(reply["bans"][0]["key"] == "192.0.2.1");
    CHECK(reply["bans"][0]["hits"] == 4);
    CHECK(reply["bans"][0]["remaining_s"] == 1000);
}

TEST_CASE("band control: list of an unknown jail is refused at once", "[band]") {
    Rig rig;
    const json reply = rig.ask({{"cmd", "list"}, {"jail", "nojail"}});
    CHECK(reply == json{{"ok", false}, {"error", "no jail nojail (jails: exim, submission)"}});
    CHECK(rig.listing.asked().empty());
}

TEST_CASE("band control: show gives each jail's key, hits and bans from the store", "[band]") {
    Rig rig;
    Batch batch;
    batch.hits.push_back({"exim", key("2001:db8:1:2::/64"), 1500, 0});
    batch.bans.push_back({"exim", key("2001:db8:1:2::/64"), 1600, 2200, "maxretry", "log"});
    REQUIRE_FALSE(rig.store.commit(batch));
    const json reply = rig.ask({{"cmd", "show"}, {"ip", "2001:db8:1:2::9"}});
    REQUIRE(reply["keys"].size() == 2);
    const json& exim = reply["keys"][0];
    CHECK(exim["key"] == "2001:db8:1:2::/64");
    CHECK(exim["lifetime_hits"] == 1);
    CHECK(exim["recent_hits"].size() == 1);
    CHECK(exim["bans"][0]["duration_s"] == 600);
    CHECK(exim["ignored"] == false);
    CHECK(reply["keys"][1]["bans"].empty());
    CHECK(rig.ask({{"cmd", "show"}, {"ip", "nonsense"}})["ok"] == false);
}

TEST_CASE("band control: a store that cannot be read fails show and unban", "[band]") {
    Rig rig;
    rig.store.fail_reads(1);
    CHECK(rig.ask({{"cmd", "show"}, {"ip", "192.0.2.1"}}) ==
          json{{"ok", false}, {"error", "show failed: database is locked"}});
    rig.store.fail_reads(1);
    CHECK(rig.ask({{"cmd", "unban"}, {"all", true}}) ==
          json{{"ok", false}, {"error", "unban failed: database is locked"}});
    CHECK(rig.band.unbans.empty());
}

TEST_CASE("band control: ban steers each jail asked, and refuses what the jail must not ban",
          "[band]") {
    Rig rig;
    json reply = rig.ask({{"cmd", "ban"}, {"ip", "198.51.100.7"}, {"for", "1h"}});
    REQUIRE(reply["ok"] == true);
    REQUIRE(rig.band.bans.size() == 2);
    CHECK(rig.band.bans[1].jail == 1);
    CHECK(rig.band.bans[1].key == key("198.51.100.7"));
    CHECK(rig.band.bans[1].length == std::chrono::seconds{3600});
    reply = rig.ask({{"cmd", "ban"}, {"ip", "198.51.100.8"}, {"jail", "exim"}});
    CHECK(reply["banned"] ==
          json::array({{{"jail", "exim"}, {"key", "198.51.100.8"}, {"duration_s", 600}}}));
    CHECK(rig.ask({{"cmd", "ban"}, {"ip", "203.0.113.5"}})["error"] ==
          "refused: 203.0.113.5 is loopback or on jail exim's ignore list");
    CHECK(rig.ask({{"cmd", "ban"}, {"ip", "127.0.0.1"}})["ok"] == false);
    CHECK(rig.ask({{"cmd", "ban"}, {"ip", "198.51.100.9"}, {"for", "soon"}})["error"] ==
          "bad duration \"soon\" (e.g. 3600, 15m, 1h, 4w)");
    rig.band.refusal = "the database does not take commits now";
    CHECK(rig.ask({{"cmd", "ban"}, {"ip", "198.51.100.9"}})["error"] ==
          "the database does not take commits now");
    CHECK(rig.band.bans.size() == 3);
}

TEST_CASE("band control: unban lifts the active bans of the address, or all of them", "[band]") {
    Rig rig;
    Batch batch;
    for (const char* address : {"192.0.2.1", "192.0.2.2"})
        batch.bans.push_back({"exim", key(address), 1000, 9000, "maxretry", "log"});
    batch.bans.push_back({"exim", key("192.0.2.3"), 1000, 1500, "maxretry", "log"}); // over
    REQUIRE_FALSE(rig.store.commit(batch));
    CHECK(rig.ask({{"cmd", "unban"}, {"ip", "192.0.2.2"}}) == json{{"ok", true}, {"unbanned", 1}});
    REQUIRE(rig.band.unbans.size() == 1);
    CHECK(rig.band.unbans[0].keys == std::vector<BanKey>{key("192.0.2.2")});
    CHECK(rig.ask({{"cmd", "unban"}, {"all", true}, {"jail", "exim"}})["unbanned"] == 2);
    CHECK(rig.ask({{"cmd", "unban"}})["ok"] == false);
}

TEST_CASE("band control: reload and flush say why they were refused", "[band]") {
    Rig rig;
    CHECK(rig.ask({{"cmd", "reload"}}) == json{{"ok", true}});
    CHECK(rig.ask({{"cmd", "flush"}}) == json{{"ok", true}});
    rig.band.refusal = "the disk is full";
    CHECK(rig.ask({{"cmd", "reload"}})["error"] ==
          "reload refused, the running configuration stays: the disk is full");
    CHECK(rig.ask({{"cmd", "flush"}})["error"] == "the disk is full");
    CHECK(rig.band.reloads == 2);
    CHECK(rig.band.flushes == 2);
}

TEST_CASE("band control: stats gathers the pipeline's, the tail's, the socket's and the zone's "
          "figures",
          "[band]") {
    Rig rig;
    rig.band.stats.commits = 9;
    using Ms = std::chrono::duration<double, std::milli>;
    rig.band.stats.batch_latency.note(Ms{0.3}); // bucket <= 0.5 ms
    rig.band.stats.batch_latency.note(Ms{0.4});
    rig.band.stats.batch_latency.note(Ms{1.5}); // bucket <= 2 ms
    rig.band.tail.rotations = 3;
    rig.band.control.denied = 4;
    json reply = rig.ask({{"cmd", "stats"}});
    CHECK(reply["commits"] == 9);
    CHECK(reply["tail"]["rotations"] == 3);
    CHECK(reply["control"]["denied"] == 4);
    CHECK(reply["batch_latency"]["count"] == 3);
    CHECK(reply["batch_latency"]["buckets"][1]["count"] == 2); // cumulative
    CHECK(reply["batch_latency"]["buckets"][2]["count"] == 3);
    CHECK_FALSE(reply.contains("dnsbl"));
    rig.band.dnsbl = DnsblExportStats{5, 1, 7, 2};
    reply = rig.ask({{"cmd", "stats"}});
    CHECK(reply["dnsbl"] == json{{"writes", 5}, {"errors", 1}, {"ipv4", 7}, {"ipv6", 2}});
}

TEST_CASE("band control: trust list, show and forget", "[band][trust]") {
    Rig rig;
    const std::int64_t now = rig.band.now_ms / 1000;
    auto& exim = *rig.band.jail_runtimes[0];
    exim.record_login(*IpAddress::parse("192.0.2.7"), "alice", now - 60);
    exim.record_login(*IpAddress::parse("2001:db8:1:2::10"), "bob", now - 30);
    rig.band.jail_runtimes[1]->record_login(*IpAddress::parse("192.0.2.7"), "carol", now - 10);

    const json listed = rig.ask({{"cmd", "trust_list"}});
    REQUIRE(listed["ok"] == true);
    REQUIRE(listed["trust"].size() == 3);
    CHECK(listed["trust"][0]["jail"] == "exim");
    CHECK(listed["trust"][0]["key"] == "192.0.2.7");
    CHECK(listed["trust"][0]["account"] == "alice");
    CHECK(listed["trust"][1]["key"] == "2001:db8:1:2::/64");
    CHECK(listed["trust"][2]["jail"] == "submission");
    CHECK(rig.ask({{"cmd", "trust_list"}, {"jail", "submission"}})["trust"].size() == 1);

    const json shown = rig.ask({{"cmd", "trust_show"}, {"ip", "2001:db8:1:2::99"}});
    REQUIRE(shown["trust"].size() == 1);
    CHECK(shown["trust"][0]["account"] == "bob");
    CHECK(rig.ask({{"cmd", "trust_show"}, {"ip", "nonsense"}})["ok"] == false);

    const json forgot = rig.ask({{"cmd", "trust_forget"}, {"ip", "192.0.2.7"}});
    CHECK(forgot["forgotten"] == 2);
    REQUIRE(rig.band.forgotten.size() == 1);
    const json after = rig.ask({{"cmd", "trust_list"}});
    REQUIRE(after["trust"].size() == 1);
    CHECK(after["trust"][0]["account"] == "bob");
}
