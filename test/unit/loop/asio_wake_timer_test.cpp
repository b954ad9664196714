#include "loop/asio_wake_timer.hpp"
#include "support/run_until.hpp"

#include <catch2/catch.hpp>

using exim_ban::AsioWakeTimer;
using std::chrono::milliseconds;

TEST_CASE("the Asio wake timer keeps the earlier of two wake-ups and calls back once", "[loop]") {
    boost::asio::io_context io;
    int wakes = 0;
    AsioWakeTimer timer(io, [&] { ++wakes; });
    const auto armed = std::chrono::steady_clock::now();
    timer.wake_after(milliseconds{20});
    timer.wake_after(milliseconds{60'000}); // later: the armed one stays
    REQUIRE(exim_ban::testing::run_until(io, [&] { return wakes == 1; }));
    CHECK(std::chrono::steady_clock::now() - armed < std::chrono::seconds(5));
    CHECK(io.poll() == 0); // nothing else armed
    CHECK(wakes == 1);
}

TEST_CASE("a cancelled wake-up never calls back", "[loop]") {
    boost::asio::io_context io;
    int wakes = 0;
    AsioWakeTimer timer(io, [&] { ++wakes; });
    timer.wake_after(milliseconds{0});
    timer.cancel();
    io.run();
    CHECK(wakes == 0);
}
