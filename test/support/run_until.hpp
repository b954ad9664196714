// Runs an io_context until a condition holds, for the tests of what runs on
// one (the tailer, the control server): nothing sleeps, and a condition that
// does not hold within the limit fails the test instead of hanging it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>

namespace exim_ban::testing {

// Runs `io` until `done` holds; false after `limit`.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        if (io.stopped())
            io.restart();
        io.run_one_for(std::chrono::milliseconds(10));
    }
    return true;
}

} // namespace exim_ban::testing
