#include "core/trust_book.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

namespace {
BanKey key(const char* text) {
    return ban_key(*IpAddress::parse(text), 64);
}
constexpr std::int64_t day = 86400;
TrustRules rules() {
    return {std::chrono::seconds{30 * day}, 20, std::chrono::seconds{600}};
}
} // namespace

TEST_CASE("a login trusts its account from its key for trust_time", "[trust]") {
    TrustBook book(rules(), 1000);
    book.record_login(key("192.0.2.7"), "alice", 1000);
    CHECK(book.trusts(key("192.0.2.7"), "alice", 1000));
    CHECK(book.trusts(key("192.0.2.7"), "alice", 1000 + 30 * day - 1));
    CHECK_FALSE(book.trusts(key("192.0.2.7"), "alice", 1000 + 30 * day));
    CHECK_FALSE(book.trusts(key("192.0.2.7"), "bob", 1000));
    CHECK_FALSE(book.trusts(key("192.0.2.8"), "alice", 1000));
    // IPv6: the key is the /64.
    book.record_login(key("2001:db8:1:2::10"), "bob", 1000);
    CHECK(book.trusts(key("2001:db8:1:2::99"), "bob", 2000));
    REQUIRE(book.trusted(2000).size() == 2);
    CHECK(book.trusted(2000)[1].key.to_string() == "2001:db8:1:2::/64");
    CHECK(book.trusted(1000 + 30 * day).empty());
}

TEST_CASE("a later login refreshes trust; an older one changes nothing", "[trust]") {
    TrustBook book(rules(), 1000);
    book.record_login(key("192.0.2.7"), "alice", 1000);
    book.record_login(key("192.0.2.7"), "alice", 5000);
    book.record_login(key("192.0.2.7"), "alice", 2000);
    CHECK(book.entries() == 1);
    REQUIRE(book.trusted(5000).size() == 1);
    CHECK(book.trusted(5000)[0].last_seen == 5000);
}

TEST_CASE("no trust without an account, or with trust_time 0", "[trust]") {
    TrustBook book(rules(), 1000);
    book.record_login(key("192.0.2.7"), "", 1000);
    CHECK(book.entries() == 0);
    TrustBook off({std::chrono::seconds{0}, 20, std::chrono::seconds{600}}, 1000);
    CHECK_FALSE(off.enabled());
    off.record_login(key("192.0.2.7"), "alice", 1000);
    CHECK_FALSE(off.trusts(key("192.0.2.7"), "alice", 1000));
    CHECK_FALSE(off.excuse(key("192.0.2.7"), "alice", 1001));
}

TEST_CASE("known-user mistakes are excused up to trust_maxretry within findtime", "[trust]") {
    TrustBook book(rules(), 1000);
    const BanKey office = key("192.0.2.7");
    book.record_login(office, "alice", 1000);
    for (int i = 0; i < 20; ++i)
        CHECK(book.excuse(office, "alice", 2000 + i));
    CHECK_FALSE(book.excuse(office, "alice", 2020)); // the 21st within findtime counts
    CHECK_FALSE(book.excuse(office, "bob", 2021));   // another account always counts
    CHECK_FALSE(book.excuse(office, "", 2021));      // so does a line naming none
    // Past findtime, the window has room again.
    CHECK(book.excuse(office, "alice", 2000 + 600 + 5));
}

TEST_CASE("a mistake before the login or after trust_time is not excused", "[trust]") {
    TrustBook book(rules(), 1000);
    book.record_login(key("192.0.2.7"), "alice", 1000);
    CHECK_FALSE(book.excuse(key("192.0.2.7"), "alice", 1000 + 30 * day + 1));
}

TEST_CASE("forget drops every account and the mistakes of a key", "[trust]") {
    TrustBook book(rules(), 1000);
    book.record_login(key("192.0.2.7"), "alice", 1000);
    book.record_login(key("192.0.2.7"), "bob", 1000);
    book.record_login(key("192.0.2.8"), "alice", 1000);
    CHECK(book.forget(key("192.0.2.7")) == 2);
    CHECK(book.forget(key("192.0.2.7")) == 0);
    CHECK(book.entries() == 1);
    CHECK_FALSE(book.trusts(key("192.0.2.7"), "alice", 1001));
    CHECK(book.trusts(key("192.0.2.8"), "alice", 1001));
}

TEST_CASE("replayed mistakes fill the window as excused ones did", "[trust]") {
    TrustBook book(rules(), 1000);
    book.record_login(key("192.0.2.7"), "alice", 1000);
    for (int i = 0; i < 25; ++i)
        book.replay_mistake(key("192.0.2.7"), 2000 + i);
    CHECK_FALSE(book.excuse(key("192.0.2.7"), "alice", 2030));
    book.replay_mistake(key("192.0.2.99"), 2000); // no trust: nothing to fill
    CHECK(book.entries() == 1);
}

TEST_CASE("memory is capped: the oldest logins are forgotten and counted", "[trust]") {
    TrustBook book(rules(), 16);
    for (int i = 0; i < 100; ++i)
        book.record_login(key(("10.0.0." + std::to_string(i)).c_str()), "u", 1000 + i);
    CHECK(book.entries() <= 16);
    CHECK(book.dropped_entries() == 100 - book.entries());
    CHECK(book.trusts(key("10.0.0.99"), "u", 2000)); // the newest stays
    CHECK_FALSE(book.trusts(key("10.0.0.0"), "u", 2000));
}
