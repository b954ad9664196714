// What `exim-banctl list` reads, behind one seam: the active bans with
// their keys' lifetime hits and the kernel's elements, made into the reply
// (list_reply) off the daemon's thread, so that listing 100,000 bans does
// not hold up the bans being made meanwhile.
#pragma once

#include "control/control_server.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace exim_ban {

class BanListing {
  public:
    virtual ~BanListing() = default;
    // Hands list_reply's line for the bans of `jails` active at `now_ms`
    // (log time) to `reply` on the daemon's thread, later. Lists are
    // answered in the order asked; those asked while another is read are
    // answered together from one snapshot, as of the first of them.
    virtual void list(std::vector<std::string> jails, std::int64_t now_ms,
                      ControlHandler::Reply reply) = 0;
};

} // namespace exim_ban
