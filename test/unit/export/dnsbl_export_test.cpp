#include "export/dnsbl_export.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace exim_ban;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

struct Rig {
    Rig() {
        std::string pattern = (fs::temp_directory_path() / "dnsbl-export-XXXXXX").string();
        dir = ::mkdtemp(pattern.data());
    }
    ~Rig() { fs::remove_all(dir); }
    std::string zone() const {
        std::ifstream in(dir / "zone");
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }
    bool lists(const char* key) const {
        return zone().find(std::string(key) + "\n") != std::string::npos;
    }

    fs::path dir;
    boost::asio::io_context io;
    std::vector<ZoneEntry> bans;
    std::int64_t now = 1000;
    int reads = 0;
};

} // namespace

TEST_CASE("dnsbl export: written at start, and at once after a change when the interval has "
          "passed",
          "[dnsbl]") {
    Rig rig;
    DnsblExport exporter(
        rig.io, rig.dir / "zone", milliseconds{0}, [&] { return rig.bans; },
        [&] { return rig.now; });
    exporter.write_now();
    CHECK(rig.zone().find("$DATASET ip4set") != std::string::npos);
    rig.bans.push_back({*IpPrefix::parse("192.0.2.1"), 5000});
    exporter.bans_changed();
    CHECK(rig.lists("192.0.2.1"));
    CHECK(exporter.stats().writes == 2);
}

TEST_CASE("dnsbl export: changes within the interval are written together when it ends",
          "[dnsbl]") {
    // Long enough that the two changes below always fall inside it, also
    // on a loaded machine (200 ms did not, once, beside the flood tests).
    constexpr milliseconds interval{2'000};
    Rig rig;
    DnsblExport exporter(
        rig.io, rig.dir / "zone", interval,
        [&] {
            ++rig.reads;
            return rig.bans;
        },
        [&] { return rig.now; });
    const auto written = std::chrono::steady_clock::now();
    exporter.write_now();
    rig.bans.push_back({*IpPrefix::parse("192.0.2.1"), 5000});
    exporter.bans_changed();
    rig.bans.push_back({*IpPrefix::parse("192.0.2.2"), 5000});
    exporter.bans_changed();
    CHECK_FALSE(rig.lists("192.0.2.1"));
    CHECK(rig.reads == 1);

    rig.io.run_one_for(std::chrono::seconds{10});
    CHECK(rig.lists("192.0.2.1"));
    CHECK(rig.lists("192.0.2.2"));
    CHECK(rig.reads == 2);
    CHECK(std::chrono::steady_clock::now() - written >= interval);
    CHECK(exporter.stats().writes == 2);
    CHECK(exporter.stats().ipv4 == 2);
}

TEST_CASE("dnsbl export: a ban leaves the zone when it ends", "[dnsbl]") {
    Rig rig;
    rig.bans.push_back({*IpPrefix::parse("192.0.2.1"), 1001});
    rig.bans.push_back({*IpPrefix::parse("2001:db8:1::/64"), 9000});
    DnsblExport exporter(
        rig.io, rig.dir / "zone", milliseconds{10}, [&] { return rig.bans; },
        [&] { return rig.now; });
    exporter.write_now();
    REQUIRE(rig.lists("192.0.2.1"));
    // The export wakes when the earliest ban ends (1 s of log time later).
    rig.now = 1001;
    rig.io.run_one_for(std::chrono::seconds{5});
    CHECK_FALSE(rig.lists("192.0.2.1"));
    CHECK(rig.lists("2001:db8:1::/64"));
}

TEST_CASE("dnsbl export: a failing store or file is counted and retried", "[dnsbl]") {
    Rig rig;
    bool broken = true;
    DnsblExport exporter(
        rig.io, rig.dir / "zone", milliseconds{20},
        [&] {
            if (broken)
                throw std::runtime_error("database is locked");
            return rig.bans;
        },
        [&] { return rig.now; });
    exporter.write_now();
    CHECK(exporter.stats().failures == 1);
    CHECK_FALSE(fs::exists(rig.dir / "zone"));
    broken = false;
    rig.io.run_one_for(std::chrono::seconds{5});
    CHECK(fs::exists(rig.dir / "zone"));
    CHECK(exporter.stats().writes == 1);
}
