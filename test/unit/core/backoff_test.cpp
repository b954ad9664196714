#include "core/backoff.hpp"

#include <catch2/catch.hpp>
#include <vector>

using exim_ban::Backoff;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

std::vector<milliseconds> waits(Backoff& backoff, int count) {
    std::vector<milliseconds> taken;
    for (int i = 0; i < count; ++i)
        taken.push_back(backoff.next());
    return taken;
}

} // namespace

TEST_CASE("retries wait 1 s doubling up to 30 s and start over after a success", "[backoff]") {
    Backoff backoff(seconds(1), seconds(30));
    CHECK(waits(backoff, 7) == std::vector<milliseconds>{seconds(1), seconds(2), seconds(4),
                                                         seconds(8), seconds(16), seconds(30),
                                                         seconds(30)});
    backoff.reset();
    CHECK(backoff.next() == seconds(1));
}

TEST_CASE("a cap that is no power of two of the first wait is reached, never passed", "[backoff]") {
    Backoff backoff(milliseconds(100), milliseconds(2000));
    CHECK(waits(backoff, 7) == std::vector<milliseconds>{milliseconds(100), milliseconds(200),
                                                         milliseconds(400), milliseconds(800),
                                                         milliseconds(1600), milliseconds(2000),
                                                         milliseconds(2000)});
}

TEST_CASE("a first wait longer than the cap is waited once, then the cap", "[backoff]") {
    Backoff backoff(milliseconds(100), milliseconds(50));
    CHECK(waits(backoff, 3) ==
          std::vector<milliseconds>{milliseconds(100), milliseconds(50), milliseconds(50)});
}
