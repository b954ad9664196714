#include "loop/periodic_task.hpp"
#include "support/run_until.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>

using namespace exim_ban;
using std::chrono::milliseconds;

TEST_CASE("periodic task: nothing before start, then one run per interval", "[loop]") {
    boost::asio::io_context io;
    int runs = 0;
    std::chrono::steady_clock::time_point last;
    std::chrono::steady_clock::duration shortest = std::chrono::hours(1);
    PeriodicTask task(io, milliseconds(20), [&] {
        const auto now = std::chrono::steady_clock::now();
        if (runs > 0)
            shortest = std::min(shortest, now - last);
        last = now;
        ++runs;
    });
    CHECK(io.poll() == 0); // not started: no work at all
    io.restart();
    const auto started = std::chrono::steady_clock::now();
    task.start();
    REQUIRE(exim_ban::testing::run_until(io, [&] { return runs >= 3; }));
    CHECK(last - started >= milliseconds(60));
    CHECK(shortest >= milliseconds(20));
}

TEST_CASE("periodic task: cancel stops it, even from inside a run, and start resumes it",
          "[loop]") {
    boost::asio::io_context io;
    int runs = 0;
    PeriodicTask* self = nullptr;
    PeriodicTask task(io, milliseconds(1), [&] {
        ++runs;
        self->cancel();
    });
    self = &task;
    task.start();
    io.run_for(std::chrono::seconds(5)); // returns once no work is left
    CHECK(runs == 1);
    io.restart();
    task.start();
    task.cancel();
    io.run_for(std::chrono::seconds(5));
    CHECK(runs == 1);
    io.restart();
    task.start();
    io.run_for(std::chrono::seconds(5));
    CHECK(runs == 2);
}

TEST_CASE("periodic task: a run already due when the task is destroyed does nothing", "[loop]") {
    boost::asio::io_context io;
    int late_runs = 0;
    auto late = std::make_unique<PeriodicTask>(io, milliseconds(0), [&] { ++late_runs; });
    PeriodicTask* self = nullptr;
    // Both are due at once; the first runs first and destroys the other,
    // whose run is then already queued.
    PeriodicTask first(io, milliseconds(0), [&] {
        late.reset();
        self->cancel();
    });
    self = &first;
    first.start();
    late->start();
    io.run_for(std::chrono::seconds(5)); // returns once no work is left
    CHECK_FALSE(late);
    CHECK(late_runs == 0);
}
