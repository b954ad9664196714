// DnsblExport on a fake clock and a fake timer: the test moves the clock
// and calls the wake-up the export asked for; nothing sleeps or waits.
#include "export/dnsbl_export.hpp"
#include "support/fake_wake_timer.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

using namespace exim_ban;
using exim_ban::testing::FakeWakeTimer;
using exim_ban::testing::TempDir;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

struct Rig {
    std::string zone() const {
        std::ifstream in(dir / "zone");
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }
    bool lists(const char* key) const {
        return zone().find(std::string(key) + "\n") != std::string::npos;
    }
    // A DnsblExport of this rig's zone, bans, clocks and timer.
    DnsblExport exporter(milliseconds interval, std::function<ActiveBansRead()> read = {}) {
        if (!read)
            read = [this]() -> ActiveBansRead { return bans; };
        return DnsblExport(
            timer, [this] { return steady; }, dir / "zone", interval,
            [this, read] {
                ++reads;
                return read();
            },
            [this] { return now; });
    }
    // Moves the steady clock on by the wait the export asked for last, and
    // calls it back.
    void wake(DnsblExport& exporter) {
        REQUIRE_FALSE(timer.requests.empty());
        steady += timer.requests.back();
        exporter.on_wake();
    }

    TempDir dir;
    FakeWakeTimer timer;
    std::chrono::steady_clock::time_point steady{std::chrono::hours(1)};
    std::vector<ZoneEntry> bans;
    std::int64_t now = 1000;
    int reads = 0;
};

} // namespace

TEST_CASE("dnsbl export: written at start, and at once after a change when the interval has "
          "passed",
          "[dnsbl]") {
    Rig rig;
    DnsblExport exporter = rig.exporter(milliseconds{0});
    exporter.write_now();
    CHECK(rig.zone().find("$DATASET ip4set") != std::string::npos);
    rig.bans.push_back({*IpPrefix::parse("192.0.2.1"), 5000});
    exporter.bans_changed();
    CHECK(rig.lists("192.0.2.1"));
    CHECK(exporter.stats().writes == 2);
    // Not woken to write again before the ban ends, 4,000 s of log time on.
    CHECK(rig.timer.requests == std::vector<milliseconds>{milliseconds{4'000'000}});
}

TEST_CASE("dnsbl export: changes within the interval are written together when it ends",
          "[dnsbl]") {
    constexpr milliseconds interval{2'000};
    Rig rig;
    DnsblExport exporter = rig.exporter(interval);
    exporter.write_now();
    rig.steady += milliseconds{500};
    rig.bans.push_back({*IpPrefix::parse("192.0.2.1"), 5000});
    exporter.bans_changed();
    rig.bans.push_back({*IpPrefix::parse("192.0.2.2"), 5000});
    exporter.bans_changed();
    CHECK_FALSE(rig.lists("192.0.2.1"));
    CHECK(rig.reads == 1);
    // Woken when the interval since the write ends, not a full interval
    // after the change.
    CHECK(rig.timer.requests ==
          std::vector<milliseconds>{milliseconds{1'500}, milliseconds{1'500}});

    rig.wake(exporter);
    CHECK(rig.lists("192.0.2.1"));
    CHECK(rig.lists("192.0.2.2"));
    CHECK(rig.reads == 2);
    CHECK(exporter.stats().writes == 2);
    CHECK(exporter.stats().ipv4 == 2);
}

TEST_CASE("dnsbl export: a ban leaves the zone when it ends", "[dnsbl]") {
    Rig rig;
    rig.bans.push_back({*IpPrefix::parse("192.0.2.1"), 1001});
    rig.bans.push_back({*IpPrefix::parse("2001:db8:1::/64"), 9000});
    DnsblExport exporter = rig.exporter(milliseconds{10});
    exporter.write_now();
    REQUIRE(rig.lists("192.0.2.1"));
    // The export wakes when the earliest ban ends (1 s of log time later).
    REQUIRE(rig.timer.requests == std::vector<milliseconds>{milliseconds{1'000}});
    rig.now = 1001;
    rig.wake(exporter);
    CHECK_FALSE(rig.lists("192.0.2.1"));
    CHECK(rig.lists("2001:db8:1::/64"));
}

TEST_CASE("dnsbl export: a failing store or file is counted and retried", "[dnsbl]") {
    Rig rig;
    bool broken = true;
    DnsblExport exporter = rig.exporter(milliseconds{20}, [&]() -> ActiveBansRead {
        if (broken)
            return std::string("database is locked");
        return rig.bans;
    });
    exporter.write_now();
    CHECK(exporter.stats().failures == 1);
    CHECK_FALSE(fs::exists(rig.dir / "zone"));
    REQUIRE(rig.timer.requests == std::vector<milliseconds>{milliseconds{20}});
    broken = false;
    rig.wake(exporter);
    CHECK(fs::exists(rig.dir / "zone"));
    CHECK(exporter.stats().writes == 1);
}
