// The WakeTimer of the running daemon: a steady_timer on its io_context,
// calling one callback given at construction.
#pragma once

#include "loop/lifetime.hpp"
#include "loop/wake_timer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>

namespace exim_ban {

class AsioWakeTimer final : public WakeTimer {
  public:
    AsioWakeTimer(boost::asio::io_context& io, std::function<void()> on_wake);

    void wake_after(std::chrono::milliseconds after) override;
    // Drops the armed wake-up (at shutdown); wake_after() arms again.
    void cancel();

  private:
    boost::asio::steady_timer timer_;
    std::function<void()> on_wake_;
    bool armed_ = false;
    // Last: a wake-up already due when the timer goes finds it gone.
    Lifetime lifetime_;
};

} // namespace exim_ban
