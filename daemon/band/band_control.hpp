// The control socket's commands, answered from the running daemon: status,
// list, show, ban, unban, reload, flush, stats (see DESIGN.md and
// exim-banctl(8) for the replies). The socket server has already checked
// the peer's right to the command.
#pragma once

#include "band/ban_listing.hpp"
#include "control/control_server.hpp"
#include "export/dnsbl_export.hpp"
#include "tail/tailer.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace exim_ban {

class BanPipeline;
class Firewall;
class Store;
struct ControlServerStats;

// What the commands read and steer; the band service provides it.
class BandRuntime {
  public:
    virtual ~BandRuntime() = default;
    virtual BanPipeline& pipeline() = 0;
    virtual std::vector<LogPosition> positions() = 0;
    virtual TailStats tail_stats() = 0;
    virtual Store& store() = 0;
    virtual Firewall& firewall() = 0;
    virtual ControlServerStats control_stats() = 0;
    // nullopt when no dnsbl_zone is configured.
    virtual std::optional<DnsblExportStats> dnsbl_stats() = 0;
    // Reloads as SIGHUP does; returns why it was refused, or nullopt.
    virtual std::optional<std::string> reload() = 0;
    // Commits the open batch and the lifetime counts; returns what failed.
    virtual std::optional<std::string> flush() = 0;
    virtual std::int64_t log_now_ms() = 0;
};

class BandControl final : public ControlHandler {
  public:
    // `list` is answered later, through `listing`. Both must outlive it.
    BandControl(BandRuntime& runtime, BanListing& listing);
    std::optional<nlohmann::json> handle(const ControlRequest& request,
                                         const Reply& later) override;

  private:
    nlohmann::json status();
    std::optional<nlohmann::json> list(const nlohmann::json& body, const Reply& later);
    nlohmann::json show(const nlohmann::json& body);
    nlohmann::json ban(const nlohmann::json& body);
    nlohmann::json unban(const nlohmann::json& body);
    nlohmann::json stats();

    BandRuntime& runtime_;
    BanListing& listing_;
    std::chrono::steady_clock::time_point started_;
};

} // namespace exim_ban
