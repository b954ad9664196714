#include "loop/asio_wake_timer.hpp"

namespace exim_ban {

AsioWakeTimer::AsioWakeTimer(boost::asio::io_context& io, std::function<void()> on_wake)
    : timer_(io)
    , on_wake_(std::move(on_wake)) {}

void AsioWakeTimer::wake_after(std::chrono::milliseconds after) {
    const auto when = std::chrono::steady_clock::now() + after;
    if (armed_ && timer_.expiry() <= when)
        return;
    armed_ = true;
    timer_.expires_at(when);
    timer_.async_wait(lifetime_.guarded([this](const boost::system::error_code& error) {
        if (error)
            return; // re-armed earlier, or cancelled
        armed_ = false;
        on_wake_();
    }));
}

void AsioWakeTimer::cancel() {
    armed_ = false;
    timer_.cancel();
}

} // namespace exim_ban
