// The exception of firewall/: the firewall cannot be set up at start-up or
// reload (no CAP_NET_ADMIN, no nf_tables, an object in table inet exim_ban
// that exim-ban did not make and cannot use, a jail nftables cannot name).
// The message says what is wrong and what to do; the daemon shows it once
// and stops.
#pragma once

#include <stdexcept>
#include <string>

namespace exim_ban {

class FirewallSetupError : public std::runtime_error {
  public:
    // `error`: the errno value behind it, 0 when none applies.
    FirewallSetupError(const std::string& message, int error = 0)
        : std::runtime_error(message)
        , error_(error) {}

    int error() const { return error_; }

  private:
    int error_;
};

} // namespace exim_ban
