#include "export/dnsbl_export.hpp"

#include "export/zone_file.hpp"
#include "loop/wake_timer.hpp"

#include <algorithm>
#include <optional>
#include <spdlog/spdlog.h>

namespace exim_ban {

using std::chrono::steady_clock;

DnsblExport::DnsblExport(WakeTimer& timer, std::function<steady_clock::time_point()> steady,
                         std::filesystem::path zone, std::chrono::milliseconds interval,
                         std::function<ActiveBansRead()> active_bans,
                         std::function<std::int64_t()> now)
    : timer_(timer)
    , steady_(std::move(steady))
    , zone_(std::move(zone))
    , interval_(interval)
    , active_bans_(std::move(active_bans))
    , now_(std::move(now)) {}

void DnsblExport::write_now() {
    write();
}

void DnsblExport::bans_changed() {
    const auto due = last_write_ + interval_;
    if (steady_() >= due)
        write();
    else
        wake_at(due);
}

void DnsblExport::on_wake() {
    write();
}

void DnsblExport::write() {
    last_write_ = steady_();
    DnsblZone zone;
    std::optional<std::string> error;
    const ActiveBansRead read = active_bans_();
    if (const auto* failure = std::get_if<std::string>(&read))
        error = "cannot read the active bans: " + *failure;
    else
        zone = dnsbl_zone(std::get<std::vector<ZoneEntry>>(read), now_());
    if (!error && zone.text != written_)
        error = replace_file(zone_, zone.text);
    if (error) {
        ++stats_.failures;
        // Logged when it starts failing and when it recovers, not each retry.
        if (!failing_)
            spdlog::error("dnsbl: {} not written ({}); retrying every {} ms", zone_.string(),
                          *error, interval_.count());
        failing_ = true;
        wake_at(last_write_ + interval_);
        return;
    }
    if (zone.text != written_) {
        ++stats_.writes;
        written_ = std::move(zone.text);
    }
    if (failing_)
        spdlog::info("dnsbl: {} written again", zone_.string());
    failing_ = false;
    stats_.ipv4 = zone.ipv4;
    stats_.ipv6 = zone.ipv6;
    if (zone.next_expiry)
        wake_at(last_write_ +
                std::chrono::seconds{std::max<std::int64_t>(*zone.next_expiry - now_(), 0)});
}

void DnsblExport::wake_at(steady_clock::time_point when) {
    // One timer serves both the throttle and the next expiry: it keeps the
    // earliest wake-up, whose write plans the next one.
    timer_.wake_after(until(when, steady_()));
}

} // namespace exim_ban
