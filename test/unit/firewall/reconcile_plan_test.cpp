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

TEST_CASE("bans become wanted elements; those no element can stand for are failures",
          "[firewall][reconcile]") {
    StagedChanges stage;
    stage.set_jails({{"exim", {25}, Verdict::drop, 64}, {"spam", {}, Verdict::drop, 48}});
    std::vector<ElementFailure> failures;
    const auto wanted =
        wanted_elements({{"spam", *IpPrefix::parse("2001:db8:1:2::7"), milliseconds{9}},
                         {"gone", *IpPrefix::parse("192.0.2.1"), milliseconds{9}},
                         {"exim", *IpPrefix::parse("10.0.0.0/8"), milliseconds{9}}},
                        stage, failures);
    REQUIRE(wanted.size() == 1);
    CHECK(wanted[0].jail == 1);
    CHECK(*ban_key_of_element(wanted[0].element.data(), 48) == *IpPrefix::parse("2001:db8:1::/48"));
    CHECK(wanted[0].remaining == milliseconds{9});
    REQUIRE(failures.size() == 2);
    CHECK(failures[0].error == ENOENT);
    CHECK(failures[0].reason == "no jail 'gone' in the firewall setup");
    CHECK(failures[1].error == EINVAL);
    CHECK(failures[1].jail == "exim");
}

TEST_CASE("a plan becomes writes: adds, robust renewals, removes", "[firewall][reconcile]") {
    const std::vector<FirewallJail> jails{{"exim", {25}, Verdict::drop, 64}};
    ReconcilePlan plan;
    plan.add = {element(0, 1, 60000)};
    plan.renew = {element(0, 2, 30000)};
    plan.remove = {element(0, 3, 1000)};
    const std::vector<ElementWrite> writes = reconcile_writes(plan, jails);
    REQUIRE(writes.size() == 3);
    CHECK(writes[0].change.kind == ElementChangeKind::add);
    CHECK_FALSE(writes[0].robust);
    CHECK(writes[0].change.timeout == milliseconds{60000});
    CHECK(writes[1].change.kind == ElementChangeKind::add);
    CHECK(writes[1].robust);
    CHECK(writes[1].change.key == BanKey(IpAddress::from_v4(2)));
    CHECK(writes[2].change.kind == ElementChangeKind::remove);
    CHECK_FALSE(writes[2].robust);
    CHECK(writes[2].change.timeout == milliseconds{0});
}
