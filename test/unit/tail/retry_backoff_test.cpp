#include "tail/retry_backoff.hpp"

#include <catch2/catch.hpp>

using exim_ban::RetryBackoff;
using std::chrono::seconds;

TEST_CASE("retries wait 1 s doubling up to 30 s and start over after a success", "[tail]") {
    RetryBackoff backoff;
    CHECK(backoff.next() == seconds(1));
    CHECK(backoff.next() == seconds(2));
    CHECK(backoff.next() == seconds(4));
    CHECK(backoff.next() == seconds(8));
    CHECK(backoff.next() == seconds(16));
    CHECK(backoff.next() == seconds(30));
    CHECK(backoff.next() == seconds(30));
    backoff.reset();
    CHECK(backoff.next() == seconds(1));
}
