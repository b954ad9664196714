#include "firewall/reconcile_plan.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using std::chrono::milliseconds;

namespace {

PlannedElement element(std::size_t jail, std::uint32_t address, long long remaining_ms) {
    return PlannedElement{jail, *element_key(BanKey(IpAddress::from_v4(address)), 64),
                          milliseconds{remaining_ms}};
}

std::vector<std::uint32_t> addresses(const std::vector<PlannedElement>& elements) {
    std::vector<std::uint32_t> result;
    for (const auto& e : elements)
        result.push_back(ban_key_of_element(e.element.data(), 64)->network().v4_value() & 0xff);
    return result;
}

} // namespace

TEST_CASE("reconcile adds the missing, removes the unknown, keeps the rest",
          "[firewall][reconcile]") {
    const ReconcilePlan plan = plan_reconcile(
        {element(0, 1, 60000), element(0, 2, 60000), element(1, 2, 60000), element(0, 5, 60000)},
        {element(0, 2, 59000), element(0, 3, 60000), element(1, 2, 60000), element(1, 4, 1000)},
        milliseconds{5000});
    CHECK(addresses(plan.add) == std::vector<std::uint32_t>{1, 5});
    CHECK(addresses(plan.remove) == std::vector<std::uint32_t>{3, 4});
    CHECK(plan.remove[1].jail == 1);
    CHECK(plan.renew.empty());
    CHECK(plan.kept == 2);
}

TEST_CASE("a time left off by more than the tolerance is renewed", "[firewall][reconcile]") {
    const ReconcilePlan plan = plan_reconcile(
        {element(0, 1, 60000), element(0, 2, 60000), element(0, 3, 60000)},
        {element(0, 1, 50000), element(0, 2, 3600000), element(0, 3, 56000)}, milliseconds{5000});
    CHECK(addresses(plan.renew) == std::vector<std::uint32_t>{1, 2});
    CHECK(plan.renew[0].remaining == milliseconds{60000}); // the wanted time
    CHECK(plan.kept == 1);
}

TEST_CASE("expired wishes are not wanted and doubles count once", "[firewall][reconcile]") {
    const ReconcilePlan plan = plan_reconcile(
        {element(0, 1, 0), element(0, 2, -5), element(0, 3, 1000), element(0, 3, 90000)},
        {element(0, 1, 30000)}, milliseconds{5000});
    CHECK(addresses(plan.remove) == std::vector<std::uint32_t>{1});
    REQUIRE(plan.add.size() == 1);
    CHECK(plan.add[0].remaining == milliseconds{90000});
}

TEST_CASE("nothing wanted, nothing there", "[firewall][reconcile]") {
    const ReconcilePlan plan = plan_reconcile({}, {}, milliseconds{5000});
    CHECK(plan.add.empty());
    CHECK(plan.remove.empty());
    CHECK(plan.kept == 0);
}
