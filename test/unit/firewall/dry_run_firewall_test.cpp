#include "firewall/dry_run_firewall.hpp"
#include "firewall/firewall_setup_error.hpp"
#include "support/fake_firewall.hpp"

#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sstream>

using namespace exim_ban;
using std::chrono::milliseconds;

namespace {

BanKey key(const char* text) {
    return *IpPrefix::parse(text);
}

// The in-memory backends behind one face, each with a clock the test moves.
struct DryRunHarness {
    std::ostringstream log;
    std::chrono::steady_clock::time_point now{};
    DryRunFirewall firewall{
        std::make_shared<spdlog::logger>("dry-run-test",
                                         std::make_shared<spdlog::sinks::ostream_sink_st>(log)),
        [this] { return now; }};
    void advance(milliseconds time) { now += time; }
};

struct FakeHarness {
    testing::FakeFirewall firewall;
    void advance(milliseconds time) { firewall.advance(time); }
};

const std::vector<FirewallJail> jails{{"exim", {25, 465, 587}, Verdict::drop, 64},
                                      {"spam", {}, Verdict::reject, 48}};

struct Ban {
    const char* jail;
    const char* key;
    milliseconds timeout;
};

// Stages `bans` and commits them; checks that all but one were added and
// that one was refused with `error`.
CommitResult commit_all_but_one(Firewall& firewall, std::initializer_list<Ban> bans, int error) {
    for (const Ban& ban : bans)
        firewall.add(ban.jail, key(ban.key), ban.timeout);
    CommitResult result = firewall.commit();
    CHECK(result.added == bans.size() - 1);
    REQUIRE(result.failures.size() == 1);
    CHECK(result.failures[0].error == error);
    return result;
}

std::vector<std::string> held(Firewall& firewall) {
    std::vector<std::string> result;
    for (const auto& element : firewall.list().elements)
        result.push_back(element.jail + ' ' + element.key.to_string());
    return result;
}

} // namespace

TEMPLATE_TEST_CASE("in-memory backends keep the Firewall contract", "[firewall][contract]",
                   DryRunHarness, FakeHarness) {
    TestType harness;
    Firewall& firewall = harness.firewall;
    CHECK_FALSE(firewall.list().table_present);
    firewall.setup(jails);

    CommitResult result = commit_all_but_one(firewall,
                                             {{"exim", "192.0.2.1", milliseconds{60000}},
                                              {"exim", "2001:db8:1:2::7", milliseconds{10000}},
                                              {"spam", "2001:db8:1:2::7", milliseconds{10000}},
                                              {"exim", "10.0.0.0/8", milliseconds{10000}}},
                                             EINVAL);
    CHECK(held(firewall) == std::vector<std::string>{"exim 192.0.2.1", "exim 2001:db8:1:2::/64",
                                                     "spam 2001:db8:1::/48"});
    const ListResult listed = firewall.list();
    CHECK(listed.table_present);
    CHECK(listed.elements[0].timeout == milliseconds{60000});
    CHECK(listed.elements[0].expires == milliseconds{60000});

    SECTION("bans expire by themselves") {
        harness.advance(milliseconds{10000});
        CHECK(held(firewall) == std::vector<std::string>{"exim 192.0.2.1"});
        CHECK(firewall.list().elements[0].expires == milliseconds{50000});
    }
    SECTION("a renewed ban gets the new time") {
        firewall.add("exim", key("192.0.2.1"), milliseconds{3600000});
        CHECK(firewall.commit().ok());
        CHECK(firewall.list().elements[0].expires == milliseconds{3600000});
    }
    SECTION("unbans, also of keys not banned, are no failures") {
        firewall.remove("exim", key("2001:db8:1:2::/64"));
        firewall.remove("exim", key("192.0.2.99"));
        result = firewall.commit();
        CHECK(result.ok());
        CHECK(result.removed == 2);
        CHECK(held(firewall) == std::vector<std::string>{"exim 192.0.2.1", "spam 2001:db8:1::/48"});
    }
    SECTION("reconcile makes the table hold exactly the active bans") {
        result = firewall.reconcile({{"exim", key("192.0.2.1"), milliseconds{60000}},
                                     {"exim", key("192.0.2.2"), milliseconds{30000}},
                                     {"spam", key("2001:db8:1::/48"), milliseconds{0}},
                                     {"gone", key("192.0.2.3"), milliseconds{1000}}});
        CHECK(result.added == 1);
        CHECK(result.removed == 2);
        REQUIRE(result.failures.size() == 1);
        CHECK(result.failures[0].error == ENOENT);
        CHECK(held(firewall) == std::vector<std::string>{"exim 192.0.2.1", "exim 192.0.2.2"});
    }
    SECTION("a new setup drops the bans of jails that are gone") {
        firewall.setup({jails[0]});
        CHECK(held(firewall) ==
              std::vector<std::string>{"exim 192.0.2.1", "exim 2001:db8:1:2::/64"});
    }
    SECTION("remove_all leaves no table") {
        CHECK_FALSE(firewall.remove_all());
        CHECK_FALSE(firewall.list().table_present);
        CHECK(firewall.list().elements.empty());
    }
    SECTION("jails nftables cannot name are a setup error") {
        CHECK_THROWS_AS(firewall.setup({{"Bad-Name", {}, Verdict::drop, 64}}), FirewallSetupError);
    }
}

TEST_CASE("the dry run logs what it would do", "[firewall][dry-run]") {
    DryRunHarness harness;
    harness.firewall.setup(jails);
    harness.firewall.add("exim", key("192.0.2.1"), std::chrono::hours(1));
    harness.firewall.remove("exim", key("192.0.2.2"));
    harness.firewall.add("nope", key("192.0.2.3"), std::chrono::hours(1));
    harness.firewall.commit();
    harness.firewall.remove_all();
    const std::string log = harness.log.str();
    for (const char* line :
         {"would make table inet exim_ban with chain input",
          "tcp dport { 25, 465, 587 } ip saddr @exim_v4 drop",
          "meta l4proto tcp ip6 saddr & ffff:ffff:ffff:: == @spam_v6 reject with tcp reset",
          "would send one batch of 2 changes", "would add 192.0.2.1 to exim_v4 for 1h",
          "would remove 192.0.2.2 from exim_v4", "would refuse 192.0.2.3: no jail 'nope'",
          "would delete table inet exim_ban"}) {
        INFO(line);
        CHECK(log.find(line) != std::string::npos);
    }
}

TEST_CASE("the fake refuses and breaks on demand", "[firewall][fake]") {
    testing::FakeFirewall fake;
    fake.setup(jails);
    fake.refuse("exim", key("192.0.2.1"), ERANGE);
    CommitResult result = commit_all_but_one(
        fake,
        {{"exim", "192.0.2.1", milliseconds{1000}}, {"exim", "192.0.2.2", milliseconds{1000}}},
        ERANGE);

    fake.break_next(FirewallFault{ENOBUFS, "broken"});
    fake.add("exim", key("192.0.2.3"), milliseconds{1000});
    result = fake.commit();
    CHECK(result.fault);
    CHECK_FALSE(fake.held("exim", key("192.0.2.3")));
    CHECK(fake.commits() == 2);

    fake.knock("exim", key("192.0.2.2"), 3, 180);
    CHECK(fake.list().elements[0].packets == 3);
    fake.fail_next_setup(FirewallSetupError("no CAP_NET_ADMIN"));
    CHECK_THROWS_WITH(fake.setup(jails), "no CAP_NET_ADMIN");
    CHECK(fake.setups() == 1);
}
