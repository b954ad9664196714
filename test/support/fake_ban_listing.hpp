// A BanListing for tests of the control commands: it answers with
// list_reply's line of the bans and kernel elements the test sets, when the
// test says so (answer()), on the test's thread.
#pragma once

#include "band/ban_listing.hpp"
#include "band/list_reply.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace exim_ban::testing {

class FakeBanListing final : public BanListing {
  public:
    struct Asked {
        std::vector<std::string> jails;
        std::int64_t now_ms = 0;
    };

    // --- what the test controls ---
    StoreRead<std::vector<ListedBan>> bans = std::vector<ListedBan>{};
    ListResult kernel;
    // Answers the lists asked so far, in the order asked.
    void answer() {
        auto waiting = std::move(waiting_);
        waiting_.clear();
        for (auto& reply : waiting)
            reply();
    }

    // --- what the test reads ---
    const std::vector<Asked>& asked() const { return asked_; }

    // --- BanListing ---
    void list(std::vector<std::string> jails, std::int64_t now_ms,
              ControlHandler::Reply reply) override {
        asked_.push_back({jails, now_ms});
        waiting_.push_back([this, jails = std::move(jails), now_ms, reply = std::move(reply)] {
            reply(list_reply(bans, kernel, jails, now_ms));
        });
    }

  private:
    std::vector<Asked> asked_;
    std::vector<std::function<void()>> waiting_;
};

} // namespace exim_ban::testing
