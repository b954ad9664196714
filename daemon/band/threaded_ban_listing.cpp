#include "band/threaded_ban_listing.hpp"

#include "band/list_reply.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <future>
#include <spdlog/spdlog.h>
#include <utility>

namespace exim_ban {

ThreadedBanListing::ThreadedBanListing(boost::asio::io_context& io,
                                       const std::filesystem::path& database,
                                       Firewall& daemon_firewall,
                                       std::unique_ptr<Firewall> own_firewall)
    : io_(io)
    , daemon_firewall_(daemon_firewall)
    , own_firewall_(std::move(own_firewall))
    , reader_(database)
    , thread_([this] { serve(); }) {}

ThreadedBanListing::~ThreadedBanListing() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
}

void ThreadedBanListing::list(std::vector<std::string> jails, std::int64_t now_ms,
                              ControlHandler::Reply reply) {
    Job job{std::move(jails), now_ms, std::nullopt, std::move(reply)};
    if (!own_firewall_)
        job.kernel = daemon_firewall_.list();
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
}

void ThreadedBanListing::serve() {
    for (;;) {
        std::deque<Job> jobs;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (stopping_)
                return;
            jobs.swap(jobs_);
        }
        answer(jobs);
    }
}

void ThreadedBanListing::answer(std::deque<Job>& jobs) {
    // One snapshot as of the first list: the others were asked while it
    // waited, a moment later.
    const std::int64_t now_ms = jobs.front().now_ms;
    // The kernel's dump of 100,000 elements takes as long as the read and
    // the reply together: it runs beside them.
    const bool dump =
        std::any_of(jobs.begin(), jobs.end(), [](const Job& job) { return !job.kernel; });
    std::future<ListResult> dumped;
    if (dump)
        dumped = std::async(std::launch::async, [this] { return own_firewall_->list(); });
    const auto bans = reader_.active_bans(now_ms / 1000);
    if (!bans)
        spdlog::error("control: \"list\" failed: database: {}", bans.failure().message);
    const ListResult kernel = dump ? dumped.get() : ListResult{};
    const Job* made_for = nullptr;
    std::string line;
    for (Job& job : jobs) {
        // The dry run's lists each carry the kernel as it was when asked.
        if (job.kernel || made_for == nullptr || made_for->jails != job.jails) {
            line = list_reply(bans, job.kernel ? *job.kernel : kernel, job.jails, now_ms);
            made_for = job.kernel ? nullptr : &job;
        }
        // The reply (and the connection it holds) moves to the daemon's
        // thread whole: none of it may be released on this one.
        boost::asio::post(
            io_, [reply = std::move(job.reply), line]() mutable { reply(std::move(line)); });
    }
}

} // namespace exim_ban
