// The BanListing of the daemon: a thread of its own with a read-only
// connection to the database (and, for nftables, a netlink socket of its
// own) answers the lists and posts each reply line to the daemon's
// io_context. The lists that wait while one is read share the next read
// and, asking for the same jails, its reply: five clients listing 100,000
// bans at once cost two reads, not five.
#pragma once

#include "band/ban_listing.hpp"
#include "firewall/firewall.hpp"
#include "store/ban_list_reader.hpp"

#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace exim_ban {

class ThreadedBanListing final : public BanListing {
  public:
    // `own_firewall` lists the kernel on the listing's thread; nullptr lists
    // `daemon_firewall` on the daemon's thread instead (the dry run's, held
    // in memory and cheap to list). Starts the thread.
    ThreadedBanListing(boost::asio::io_context& io, const std::filesystem::path& database,
                       Firewall& daemon_firewall, std::unique_ptr<Firewall> own_firewall);
    // Joins the thread after the list in progress; lists not begun are
    // dropped, unanswered.
    ~ThreadedBanListing() override;
    ThreadedBanListing(const ThreadedBanListing&) = delete;
    ThreadedBanListing& operator=(const ThreadedBanListing&) = delete;

    void list(std::vector<std::string> jails, std::int64_t now_ms,
              ControlHandler::Reply reply) override;

  private:
    struct Job {
        std::vector<std::string> jails;
        std::int64_t now_ms = 0;
        std::optional<ListResult> kernel; // read on the daemon's thread already
        ControlHandler::Reply reply;
    };
    void serve();
    void answer(std::deque<Job>& jobs);

    boost::asio::io_context& io_;
    Firewall& daemon_firewall_;
    std::unique_ptr<Firewall> own_firewall_;
    BanListReader reader_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> jobs_;
    bool stopping_ = false;
    std::thread thread_; // last: it starts once the rest is ready
};

} // namespace exim_ban
