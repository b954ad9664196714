// The control socket's commands, answered from the running daemon: status,
// list, show, ban, unban, reload, flush, stats, trust_list, trust_show,
// trust_forget (see DESIGN.md and
// exim-banctl(8) for the replies). The socket server has already checked
// the peer's right to the command.
#pragma once

#include "band/ban_listing.hpp"
#include "band/log_lag.hpp"
#include "control/control_server.hpp"
#include "core/log_position.hpp"
#include "export/dnsbl_export.hpp"
#include "pipeline/ban_pipeline.hpp"
#include "tail/tail_stats.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace exim_ban {

class Store;

// A followed log as `status` shows it.
struct FollowedLog {
    LogPosition position;      // as the tailer reports it
    std::optional<LogLag> lag; // nullopt when the path cannot be stat()ed
};

// What the commands read of the running daemon (the band service, or a
// fake); read anew for each request, as a reload replaces the jails.
class BandReadings {
  public:
    virtual ~BandReadings() = default;
    // Since the daemon started (a reload does not restart it).
    virtual std::chrono::seconds uptime() = 0;
    // The running configuration's jails, in its order: what a request's
    // jail index means.
    virtual const std::vector<std::unique_ptr<JailRuntime>>& jails() = 0;
    virtual const PipelineStats& pipeline_stats() = 0;
    // One per followed path, in the tailer's order.
    virtual std::vector<FollowedLog> logs() = 0;
    virtual TailStats tail_stats() = 0;
    virtual ControlServerStats control_stats() = 0;
    // nullopt when no dnsbl_zone is configured.
    virtual std::optional<DnsblExportStats> dnsbl_stats() = 0;
    virtual std::int64_t log_now_ms() = 0;
};

// What the commands change. Each returns why it was refused, or nullopt.
class BandSteering {
  public:
    virtual ~BandSteering() = default;
    // Bans `key` in jail `jail` (an index into BandReadings::jails()) for
    // `length`, stored and in the kernel (BanPipeline::manual_ban).
    virtual std::optional<std::string> ban(std::size_t jail, const BanKey& key,
                                           std::chrono::seconds length) = 0;
    // Lifts the bans of `keys` in jail `jail` (BanPipeline::manual_unban).
    virtual std::optional<std::string> unban(const std::vector<BanKey>& keys, std::size_t jail) = 0;
    // Reloads as SIGHUP does.
    virtual std::optional<std::string> reload() = 0;
    // Commits the open batch and the lifetime counts.
    virtual std::optional<std::string> flush() = 0;
    // Drops the trust of `address`'s key in every jail, stored and in
    // memory (BanPipeline::forget_trust).
    virtual std::optional<std::string> forget_trust(const IpAddress& address) = 0;
};

class BandControl final : public ControlHandler {
  public:
    // `list` is answered later, through `listing`; show and unban read
    // `store`. All four must outlive it.
    BandControl(BandReadings& readings, BandSteering& steering, Store& store, BanListing& listing);
    std::optional<nlohmann::json> handle(const ControlRequest& request,
                                         const Reply& later) override;

  private:
    nlohmann::json status();
    std::optional<nlohmann::json> list(const nlohmann::json& body, const Reply& later);
    nlohmann::json show(const nlohmann::json& body);
    nlohmann::json ban(const nlohmann::json& body);
    nlohmann::json unban(const nlohmann::json& body);
    nlohmann::json stats();
    nlohmann::json trust_list(const nlohmann::json& body);
    nlohmann::json trust_show(const nlohmann::json& body);
    nlohmann::json trust_forget(const nlohmann::json& body);

    BandReadings& readings_;
    BandSteering& steering_;
    Store& store_;
    BanListing& listing_;
};

} // namespace exim_ban
