// A task the event loop runs every `interval`: the daemon's housekeeping,
// knock watch, firewall audit and watchdog.
#pragma once

#include "loop/lifetime.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>

namespace exim_ban {

class PeriodicTask {
  public:
    // Runs nothing until start().
    PeriodicTask(boost::asio::io_context& io, std::chrono::steady_clock::duration interval,
                 std::function<void()> task);
    PeriodicTask(const PeriodicTask&) = delete;
    PeriodicTask& operator=(const PeriodicTask&) = delete;

    // Runs the task `interval` from now, and every `interval` after each
    // run (a slow run delays the next), until cancel().
    void start();
    // No run after this one, even one already due; start() again resumes.
    void cancel();

  private:
    void schedule();

    boost::asio::steady_timer timer_;
    std::chrono::steady_clock::duration interval_;
    std::function<void()> task_;
    bool running_ = false;
    // Last: a run already due when the task goes finds it gone.
    Lifetime lifetime_;
};

} // namespace exim_ban
