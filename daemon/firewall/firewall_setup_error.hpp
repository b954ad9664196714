// The exception of firewall/: the firewall cannot be set up at start-up or
// reload (no CAP_NET_ADMIN, no nf_tables, an object in table inet exim_ban
// that exim-ban did not make and cannot use, a jail nftables cannot name).
// The message says what is wrong and what to do; the daemon shows it once
// and stops.
#pragma once

#include <stdexcept>

namespace exim_ban {

class FirewallSetupError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

} // namespace exim_ban
