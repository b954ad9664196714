#include "pipeline/knock_watch.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using std::chrono::milliseconds;

namespace {

FirewallElement element(const char* jail, const char* address, milliseconds expires,
                        std::uint64_t packets) {
    return FirewallElement{jail,
                           ban_key(*IpAddress::parse(address), 64),
                           milliseconds{3600'000},
                           expires,
                           packets,
                           packets * 60};
}

} // namespace

TEST_CASE("knocking: packets blocked, the ban near its end, the jail extending", "[knock]") {
    const std::vector<FirewallElement> held{
        element("exim", "192.0.2.1", milliseconds{14'000}, 3), // renewed
        element("exim", "192.0.2.2", milliseconds{14'000}, 0), // quiet
        element("exim", "192.0.2.3", milliseconds{16'000}, 9), // not yet
        element("exim", "192.0.2.4", milliseconds{15'000}, 1), // at the horizon
        element("exim", "2001:db8:1::7", milliseconds{0}, 1),  // lapsing now
        element("spam", "192.0.2.5", milliseconds{1'000}, 40), // jail does not extend
    };
    const auto knocking =
        knocking_elements(held, {"exim"}, std::chrono::duration_cast<milliseconds>(knock_horizon));
    std::vector<std::string> keys;
    for (const auto& each : knocking)
        keys.push_back(each.key.to_string());
    CHECK(keys == std::vector<std::string>{"192.0.2.1", "192.0.2.4", "2001:db8:1::/64"});
    CHECK(knocking_elements(held, {}, milliseconds{1'000'000}).empty());
}
