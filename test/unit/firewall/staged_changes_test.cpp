#include "firewall/staged_changes.hpp"

#include <catch2/catch.hpp>
#include <cerrno>

using namespace exim_ban;
using std::chrono::milliseconds;

namespace {

BanKey key(const char* text) {
    return *IpPrefix::parse(text);
}

StagedChanges stage_with_jails() {
    StagedChanges staged;
    staged.set_jails({{"exim", {25}, Verdict::drop, 64}, {"spam", {}, Verdict::reject, 48}});
    return staged;
}

} // namespace

TEST_CASE("the last change of an element wins, in first-staged order", "[firewall][stage]") {
    StagedChanges staged = stage_with_jails();
    staged.add("exim", key("192.0.2.1"), milliseconds{1000});
    staged.add("exim", key("192.0.2.2"), milliseconds{1000});
    staged.remove("exim", key("192.0.2.1"));
    staged.add("spam", key("192.0.2.1"), milliseconds{5000}); // another jail: another element
    staged.add("exim", key("192.0.2.2"), milliseconds{9000});
    CHECK(staged.size() == 3);

    const TakenChanges taken = staged.take();
    CHECK(staged.empty());
    CHECK(taken.refused.empty());
    REQUIRE(taken.changes.size() == 3);
    CHECK(taken.changes[0].kind == ElementChangeKind::remove);
    CHECK(taken.changes[0].key == key("192.0.2.1"));
    CHECK(taken.changes[1].kind == ElementChangeKind::add);
    CHECK(taken.changes[1].timeout == milliseconds{9000});
    CHECK(taken.changes[2].jail == 1);
}

TEST_CASE("IPv6 keys of one network are one element", "[firewall][stage]") {
    StagedChanges staged = stage_with_jails();
    staged.add("exim", key("2001:db8:1:2::1"), milliseconds{1000});
    staged.remove("exim", key("2001:db8:1:2::/64"));
    staged.add("spam", key("2001:db8:1:2::1"), milliseconds{1000});
    staged.add("spam", key("2001:db8:1:3::1"), milliseconds{2000}); // same /48
    const TakenChanges taken = staged.take();
    REQUIRE(taken.changes.size() == 2);
    CHECK(taken.changes[0].kind == ElementChangeKind::remove);
    CHECK(taken.changes[1].timeout == milliseconds{2000});
}

TEST_CASE("changes that cannot reach the kernel are refused with a reason", "[firewall][stage]") {
    StagedChanges staged = stage_with_jails();
    staged.add("nope", key("192.0.2.1"), milliseconds{1000});
    staged.add("exim", key("10.0.0.0/8"), milliseconds{1000});
    staged.add("spam", key("2001:db8::/32"), milliseconds{1000});
    staged.add("exim", key("192.0.2.1"), milliseconds{0});
    staged.remove("exim", key("192.0.2.1")); // a remove needs no time
    const TakenChanges taken = staged.take();
    CHECK(taken.changes.size() == 1);
    REQUIRE(taken.refused.size() == 4);
    CHECK(taken.refused[0].error == ENOENT);
    CHECK(taken.refused[0].reason.find("no jail 'nope'") != std::string::npos);
    CHECK(taken.refused[1].error == EINVAL);
    CHECK(taken.refused[2].reason.find("/48") != std::string::npos);
    CHECK(taken.refused[3].reason.find("no time left") != std::string::npos);
}

TEST_CASE("staging many elements keeps each one once", "[firewall][stage]") {
    StagedChanges staged = stage_with_jails();
    for (std::uint32_t round = 0; round < 2; ++round) {
        for (std::uint32_t i = 0; i < 5000; ++i)
            staged.add("exim", BanKey(IpAddress::from_v4(0xc0000000u + i)),
                       milliseconds{1000 + round});
    }
    const TakenChanges taken = staged.take();
    REQUIRE(taken.changes.size() == 5000);
    CHECK(std::all_of(taken.changes.begin(), taken.changes.end(),
                      [](const auto& change) { return change.timeout == milliseconds{1001}; }));
    CHECK(taken.changes[4999].key == BanKey(IpAddress::from_v4(0xc0000000u + 4999)));
}

TEST_CASE("new jails clear the stage", "[firewall][stage]") {
    StagedChanges staged = stage_with_jails();
    staged.add("exim", key("192.0.2.1"), milliseconds{1000});
    staged.set_jails({{"other", {}, Verdict::drop, 64}});
    CHECK(staged.empty());
    CHECK_FALSE(staged.find_jail("exim"));
    CHECK(staged.find_jail("other") == 0u);
}
