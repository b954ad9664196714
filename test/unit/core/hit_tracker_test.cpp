#include "core/hit_tracker.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <vector>

using namespace exim_ban;
using std::chrono::seconds;

namespace {
BanKey key(const char* address, int prefix = 64) {
    return ban_key(*IpAddress::parse(address), prefix);
}

JailPolicy three_in_ten_minutes() {
    JailPolicy policy;
    policy.maxretry = 3;
    policy.findtime = seconds{600};
    policy.bantime = seconds{3600};
    policy.increment = false;
    policy.recidive_threshold = 0;
    return policy;
}

// A tracker of three_in_ten_minutes() that has seen `k` at `time` and
// `time + 1`, one hit short of a ban.
HitTracker two_hits(const BanKey& k, std::int64_t time) {
    HitTracker tracker(three_in_ten_minutes(), 1000);
    CHECK_FALSE(tracker.record(k, time));
    CHECK_FALSE(tracker.record(k, time + 1));
    return tracker;
}
} // namespace

TEST_CASE("maxretry hits inside findtime make a ban, at the exact boundary", "[tracker]") {
    HitTracker tracker(three_in_ten_minutes(), 1000);
    const auto k = key("192.0.2.1");
    CHECK_FALSE(tracker.record(k, 1000));
    CHECK_FALSE(tracker.record(k, 1300));
    // The window is (t - findtime, t]: a hit exactly findtime before no longer counts.
    CHECK_FALSE(tracker.record(k, 1600));
    auto ban = tracker.record(k, 1899);
    REQUIRE(ban);
    CHECK(ban->key == k);
    CHECK(ban->start == 1899);
    CHECK(ban->duration == seconds{3600});
    CHECK(ban->ban_number == 1);
    CHECK(ban->window_hits == 3);
    CHECK(ban->lifetime_hits == 4);
}

TEST_CASE("a banned key is not banned again while its ban lasts", "[tracker]") {
    const auto k = key("192.0.2.2");
    HitTracker tracker = two_hits(k, 0);
    REQUIRE(tracker.record(k, 2));
    for (int t = 3; t < 3602; ++t)
        REQUIRE_FALSE(tracker.record(k, t));
    // After the ban ends the count starts afresh.
    CHECK_FALSE(tracker.record(k, 3602));
    CHECK_FALSE(tracker.record(k, 3603));
    auto again = tracker.record(k, 3604);
    REQUIRE(again);
    CHECK(again->ban_number == 2);
}

TEST_CASE("out-of-order hits are counted but cannot complete a ban", "[tracker]") {
    const auto k = key("192.0.2.3");
    HitTracker tracker = two_hits(k, 500);
    CHECK_FALSE(tracker.record(k, 100));
    CHECK(tracker.record(k, 502));
}

TEST_CASE("escalation: each earlier ban multiplies bantime up to maxtime", "[policy]") {
    JailPolicy policy = three_in_ten_minutes();
    policy.increment = true;
    policy.factor = 2;
    policy.maxtime = seconds{5 * 3600};
    CHECK(ban_length(policy, 0, 3).duration == seconds{3600});
    CHECK(ban_length(policy, 1, 6).duration == seconds{7200});
    CHECK(ban_length(policy, 2, 9).duration == seconds{14400});
    CHECK(ban_length(policy, 3, 12).duration == seconds{5 * 3600});
    CHECK(ban_length(policy, 500, 1500).duration == seconds{5 * 3600});
    policy.increment = false;
    CHECK(ban_length(policy, 3, 12).duration == seconds{3600});

    policy.increment = true;
    HitTracker tracker(policy, 1000);
    const auto k = key("192.0.2.4");
    std::vector<std::int64_t> durations;
    std::int64_t t = 0;
    for (int round = 0; round < 5; ++round) {
        for (int i = 0; i < 3; ++i) {
            if (auto ban = tracker.record(k, t++)) {
                durations.push_back(ban->duration.count());
                t = ban->start + ban->duration.count();
            }
        }
    }
    CHECK(durations == std::vector<std::int64_t>{3600, 7200, 14400, 18000, 18000});
}

TEST_CASE("recidive: past the lifetime threshold a ban lasts recidive_bantime", "[policy]") {
    JailPolicy policy = three_in_ten_minutes();
    policy.recidive_threshold = 7;
    policy.recidive_bantime = seconds{4 * 7 * 86400};
    HitTracker tracker(policy, 1000);
    const auto k = key("192.0.2.5");
    std::vector<BanReason> reasons;
    std::int64_t t = 0;
    for (int i = 0; i < 9; ++i) {
        if (auto ban = tracker.record(k, t)) {
            reasons.push_back(ban->reason);
            t += ban->duration.count();
        }
        ++t;
    }
    CHECK(reasons ==
          std::vector<BanReason>{BanReason::maxretry, BanReason::maxretry, BanReason::recidive});
    // History restored from the store counts as well.
    HitTracker restarted(policy, 1000);
    restarted.restore(k, KeyHistory{100, 2, 0});
    restarted.record(k, 10);
    restarted.record(k, 11);
    auto ban = restarted.record(k, 12);
    REQUIRE(ban);
    CHECK(ban->reason == BanReason::recidive);
    CHECK(ban->ban_number == 3);
    CHECK(ban->lifetime_hits == 103);
}

TEST_CASE("IPv6: one /64 is one key, two /64s are two", "[tracker]") {
    HitTracker tracker(three_in_ten_minutes(), 1000);
    CHECK_FALSE(tracker.record(key("2001:db8:1:2::1"), 0));
    CHECK_FALSE(tracker.record(key("2001:db8:1:2:ffff::2"), 1));
    CHECK_FALSE(tracker.record(key("2001:db8:1:3::1"), 2));
    auto ban = tracker.record(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), 3);
    REQUIRE(ban);
    CHECK(ban->key.to_string() == "2001:db8:1:2::/64");
    CHECK(tracker.tracked_keys() == 2);
}

TEST_CASE("a flood of distinct keys stays within max_keys, dropping the idlest", "[tracker]") {
    HitTracker tracker(three_in_ten_minutes(), 1000);
    const auto busy = key("192.0.2.200");
    const auto quiet = key("192.0.2.201");
    tracker.record(quiet, 0);
    std::int64_t busy_time = 0;
    std::uint64_t busy_hits = 0;
    for (std::uint32_t i = 0; i < 100000; ++i) {
        tracker.record(ban_key(IpAddress::from_v4(0x0a000000u + i), 64), busy_time);
        if (i % 500 == 0) {
            // Active, so never the idlest; hits further apart than findtime.
            busy_time += 700;
            CHECK_FALSE(tracker.record(busy, busy_time));
            ++busy_hits;
        }
    }
    // The idlest eighth goes at once when the cap is reached.
    CHECK(tracker.tracked_keys() <= 1000);
    CHECK(tracker.tracked_keys() >= 1000 - 1000 / 8);
    CHECK(tracker.dropped_keys() + tracker.tracked_keys() == 100002);
    // The busy key kept its history through the flood...
    tracker.record(busy, busy_time + 700);
    tracker.record(busy, busy_time + 701);
    auto ban = tracker.record(busy, busy_time + 702);
    REQUIRE(ban);
    CHECK(ban->lifetime_hits == busy_hits + 3);
    // ...the quiet one was forgotten and starts afresh.
    tracker.record(quiet, busy_time);
    tracker.record(quiet, busy_time + 1);
    REQUIRE(tracker.record(quiet, busy_time + 2)->lifetime_hits == 3);
}

TEST_CASE("a manual ban is known to the tracker", "[tracker]") {
    HitTracker tracker(three_in_ten_minutes(), 1000);
    const auto k = key("192.0.2.6");
    tracker.note_ban(k, 5000);
    for (int t = 0; t < 10; ++t)
        CHECK_FALSE(tracker.record(k, t));
    tracker.record(k, 5000);
    tracker.record(k, 5001);
    auto ban = tracker.record(k, 5002);
    REQUIRE(ban);
    CHECK(ban->ban_number == 2);
}

TEST_CASE("a restart that restores histories and replays the stored hits decides as if none "
          "happened",
          "[tracker]") {
    // What the daemon does after kill -9: the store gives back each key's
    // history and the hits committed so far; the suffix of the log must then
    // make exactly the bans an uninterrupted tracker makes.
    JailPolicy policy = three_in_ten_minutes();
    policy.increment = true;
    policy.bantime = seconds{300};
    policy.recidive_threshold = 12;
    policy.recidive_bantime = seconds{5000};
    const std::vector<BanKey> keys{key("192.0.2.1"), key("192.0.2.2"), key("2001:db8::1")};
    struct Hit {
        BanKey key;
        std::int64_t time;
    };
    std::vector<Hit> hits;
    std::uint32_t state = 12345; // a fixed LCG: the same sequence every run
    std::int64_t t = 1000;
    for (int i = 0; i < 600; ++i) {
        state = state * 1103515245U + 12345U;
        t += (state >> 16) % 120;
        hits.push_back({keys[(state >> 8) % keys.size()], t - ((state >> 4) % 7 == 0 ? 30 : 0)});
    }

    HitTracker whole(policy, 1000);
    std::vector<std::optional<BanDecision>> expected;
    for (const auto& hit : hits)
        expected.push_back(whole.record(hit.key, hit.time));
    const auto bans = std::count_if(expected.begin(), expected.end(),
                                    [](const auto& decision) { return decision.has_value(); });
    REQUIRE(bans >= 10);

    for (std::size_t split :
         {std::size_t{1}, std::size_t{97}, std::size_t{250}, std::size_t{599}}) {
        // The "store": lifetime hits, bans and the end of the latest ban per key.
        std::map<BanKey, KeyHistory> histories;
        for (std::size_t i = 0; i < split; ++i) {
            KeyHistory& history = histories[hits[i].key];
            ++history.lifetime_hits;
            if (expected[i]) {
                ++history.bans;
                history.banned_until = expected[i]->start + expected[i]->duration.count();
            }
        }
        HitTracker restarted(policy, 1000);
        for (const auto& [k, history] : histories)
            restarted.restore(k, history);
        for (std::size_t i = 0; i < split; ++i)
            restarted.replay(hits[i].key, hits[i].time);
        for (std::size_t i = split; i < hits.size(); ++i) {
            INFO("split " << split << ", hit " << i);
            const auto decision = restarted.record(hits[i].key, hits[i].time);
            REQUIRE(decision.has_value() == expected[i].has_value());
            if (decision) {
                CHECK(decision->start == expected[i]->start);
                CHECK(decision->duration == expected[i]->duration);
                CHECK(decision->reason == expected[i]->reason);
                CHECK(decision->ban_number == expected[i]->ban_number);
            }
        }
    }
}

TEST_CASE("a lifted ban lets the next hits ban again, escalated", "[tracker]") {
    JailPolicy policy = three_in_ten_minutes();
    policy.increment = true;
    HitTracker tracker(policy, 1000);
    const auto k = key("192.0.2.9");
    tracker.record(k, 0);
    tracker.record(k, 1);
    REQUIRE(tracker.record(k, 2));
    CHECK_FALSE(tracker.record(k, 10)); // banned until 3602
    tracker.lift_ban(k);
    tracker.record(k, 11);
    tracker.record(k, 12);
    const auto again = tracker.record(k, 13);
    REQUIRE(again);
    CHECK(again->ban_number == 2);
    CHECK(again->duration == seconds{7200});
    tracker.lift_ban(key("192.0.2.10")); // unknown: nothing to do
    CHECK(tracker.tracked_keys() == 1);
}

TEST_CASE("a renewal is the key's next escalated ban, and counts once noted", "[tracker][knock]") {
    JailPolicy policy = three_in_ten_minutes();
    policy.increment = true;
    policy.factor = 2;
    HitTracker tracker(policy, 1000);
    const auto k = key("192.0.2.4");
    tracker.record(k, 0);
    tracker.record(k, 1);
    REQUIRE(tracker.record(k, 2));

    const BanDecision first = tracker.renewal(k, 3590);
    CHECK(first.reason == BanReason::knock);
    CHECK(first.start == 3590);
    CHECK(first.duration == std::chrono::seconds{7200});
    CHECK(first.ban_number == 2);
    CHECK(first.lifetime_hits == 3);
    // Asking again before it is noted gives the same answer.
    CHECK(tracker.renewal(k, 3590).duration == first.duration);

    tracker.note_ban(k, 3590 + 7200);
    CHECK(tracker.renewal(k, 10'780).duration == std::chrono::seconds{14'400});
    // Renewed: the key's hits while the renewal lasts make no second ban.
    for (int t = 3600; t < 3610; ++t)
        CHECK_FALSE(tracker.record(k, t));
    // A key the tracker never saw (or forgot) renews as a first offender.
    CHECK(tracker.renewal(key("192.0.2.5"), 0).duration == std::chrono::seconds{3600});
    CHECK(tracker.tracked_keys() == 1);
}
