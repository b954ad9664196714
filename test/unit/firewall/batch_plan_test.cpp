#include "firewall/batch_plan.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using Kind = BatchStep::Kind;
using Operation = NftBatch::ElementOperation;
using Family = IpAddress::Family;

namespace {

const std::vector<FirewallJail> jails{{"exim", {25}, Verdict::drop, 64},
                                      {"spam", {}, Verdict::reject, 48}};

ElementWrite write(ElementChangeKind kind, std::size_t jail, const char* address, bool robust) {
    const BanKey key = *IpPrefix::parse(address);
    const ElementKey element = *element_key(key, jails[jail].ipv6_prefix);
    return {{kind, jail, key, element, std::chrono::milliseconds{1000}}, robust};
}

// A step as text: "elements exim_v4 add_exclusive 0 2" and the like.
std::string text(const BatchStep& step) {
    const std::string family = step.family == Family::v4 ? "v4" : "v6";
    switch (step.kind) {
    case Kind::add_table:
        return "table";
    case Kind::add_set:
        return "set " + jails[step.jail].name + "_" + family;
    case Kind::add_input_chain:
        return "chain";
    case Kind::add_jail_rules:
        return "rules " + jails[step.jail].name;
    case Kind::delete_set:
        return "delete " + step.stale_set;
    case Kind::elements:
        break;
    }
    static const char* const operations[] = {"add", "add_exclusive", "remove"};
    std::string result = "elements " + jails[step.jail].name + "_" + family + " " +
                         operations[static_cast<int>(step.operation)];
    for (const std::size_t i : step.writes)
        result += " " + std::to_string(i);
    return result;
}

std::vector<std::string> texts(const std::vector<BatchStep>& steps) {
    std::vector<std::string> result;
    for (const auto& step : steps)
        result.push_back(text(step));
    return result;
}

} // namespace

TEST_CASE("a batch with nothing to do plans nothing", "[firewall][batch-plan]") {
    CHECK(plan_batch(jails, std::nullopt, {}).empty());
}

TEST_CASE("a repair makes the table, the sets before the rules, then deletes stale sets",
          "[firewall][batch-plan]") {
    CHECK(texts(plan_batch(jails, TableRepair{{"old_v4", "old_v6"}}, {})) ==
          std::vector<std::string>{"table", "set exim_v4", "set exim_v6", "set spam_v4",
                                   "set spam_v6", "chain", "rules exim", "rules spam",
                                   "delete old_v4", "delete old_v6"});
}

TEST_CASE("per set: robust pre-adds, deletes, exclusive adds, final adds",
          "[firewall][batch-plan]") {
    const std::vector<ElementWrite> writes{
        write(ElementChangeKind::add, 0, "192.0.2.1", false),       // 0
        write(ElementChangeKind::add, 0, "192.0.2.2", true),        // 1
        write(ElementChangeKind::remove, 0, "192.0.2.3", false),    // 2
        write(ElementChangeKind::remove, 0, "192.0.2.4", true),     // 3
        write(ElementChangeKind::add, 1, "2001:db8::1", false),     // 4
        write(ElementChangeKind::add, 0, "2001:db8:1:2::1", false), // 5
    };
    CHECK(texts(plan_batch(jails, std::nullopt, writes)) ==
          std::vector<std::string>{"elements exim_v4 add 1 3", "elements exim_v4 remove 1 2 3",
                                   "elements exim_v4 add_exclusive 0", "elements exim_v4 add 1",
                                   "elements exim_v6 add_exclusive 5",
                                   "elements spam_v6 add_exclusive 4"});

    SECTION("after a repair's structure") {
        const auto steps = plan_batch(jails, TableRepair{}, writes);
        REQUIRE(steps.size() == 8 + 6);
        CHECK(text(steps[7]) == "rules spam");
        CHECK(text(steps[8]) == "elements exim_v4 add 1 3");
    }
}

TEST_CASE("a step holds at most one message's elements", "[firewall][batch-plan]") {
    std::vector<ElementWrite> writes;
    for (int n = 0; n < 1025; ++n) {
        const std::string address =
            "10.0." + std::to_string(n / 256) + "." + std::to_string(n % 256);
        writes.push_back(write(ElementChangeKind::add, 0, address.c_str(), false));
    }
    const auto steps = plan_batch(jails, std::nullopt, writes);
    REQUIRE(steps.size() == 2);
    CHECK(steps[0].writes.size() == NftBatch::max_elements_per_message);
    CHECK(steps[1].writes == std::vector<std::size_t>{1024});
    CHECK(steps[1].operation == Operation::add_exclusive);
}
