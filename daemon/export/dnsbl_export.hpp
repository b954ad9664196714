// Keeps the dnsbl_zone file in step with the active bans (see README.md):
// rewritten soon after the bans change, at most once per interval, and when
// the earliest listed ban ends. It owns no clock and no timer: it is given
// a WakeTimer that calls on_wake() back and the steady clock it reads, so
// that its tests run on a fake of each.
#pragma once

#include "export/dnsbl_zone.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <variant>
#include <vector>

namespace exim_ban {

class WakeTimer;

// The bans in force, or why they could not be read.
using ActiveBansRead = std::variant<std::vector<ZoneEntry>, std::string>;

struct DnsblExportStats {
    std::uint64_t writes = 0;
    std::uint64_t failures = 0; // retried after the interval
    std::size_t ipv4 = 0;       // listed by the last write
    std::size_t ipv6 = 0;
};

class DnsblExport {
  public:
    // `timer` is armed to call on_wake(); `steady` is now on the clock of
    // the interval. `active_bans` reads the bans in force (a failure to read
    // is counted and retried like a failed write); `now` is log time in
    // seconds, the scale of their expiry.
    DnsblExport(WakeTimer& timer, std::function<std::chrono::steady_clock::time_point()> steady,
                std::filesystem::path zone, std::chrono::milliseconds interval,
                std::function<ActiveBansRead()> active_bans, std::function<std::int64_t()> now);

    // Writes the file now (at start-up, after a reload).
    void write_now();
    // The bans changed: the file follows at once, or when the interval
    // since the last write has passed.
    void bans_changed();
    // The timer's callback: a wake-up asked for is due (the interval ended,
    // a listed ban ended, or a failed write may be retried).
    void on_wake();

    const DnsblExportStats& stats() const { return stats_; }

  private:
    void write();
    void wake_at(std::chrono::steady_clock::time_point when);

    WakeTimer& timer_;
    std::function<std::chrono::steady_clock::time_point()> steady_;
    std::filesystem::path zone_;
    std::chrono::milliseconds interval_;
    std::function<ActiveBansRead()> active_bans_;
    std::function<std::int64_t()> now_;
    std::string written_;
    bool failing_ = false;
    std::chrono::steady_clock::time_point last_write_{};
    DnsblExportStats stats_;
};

} // namespace exim_ban
