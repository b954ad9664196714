#include "loop/periodic_task.hpp"

#include <utility>

namespace exim_ban {

PeriodicTask::PeriodicTask(boost::asio::io_context& io,
                           std::chrono::steady_clock::duration interval, std::function<void()> task)
    : timer_(io)
    , interval_(interval)
    , task_(std::move(task)) {}

void PeriodicTask::start() {
    running_ = true;
    schedule();
}

void PeriodicTask::cancel() {
    running_ = false;
    timer_.cancel();
}

void PeriodicTask::schedule() {
    timer_.expires_after(interval_);
    timer_.async_wait(lifetime_.guarded([this](const boost::system::error_code& error) {
        // A wait that completed just as cancel() ran is not cancelled: the
        // flag stops it.
        if (error || !running_)
            return;
        task_();
        if (running_)
            schedule();
    }));
}

} // namespace exim_ban
