// The running daemon as the control commands see it (BandReadings and
// BandSteering), for BandControl's tests: the test sets the jails, the
// figures and the answers, and reads back what the commands asked for.
#pragma once

#include "band/band_control.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace exim_ban::testing {

class FakeBand final : public BandReadings, public BandSteering {
  public:
    struct Ban {
        std::size_t jail = 0;
        BanKey key;
        std::chrono::seconds length{0};
    };
    struct Unban {
        std::vector<BanKey> keys;
        std::size_t jail = 0;
    };

    // --- what the test controls ---
    std::chrono::seconds up{0};
    std::vector<std::unique_ptr<JailRuntime>> jail_runtimes;
    PipelineStats stats;
    std::vector<FollowedLog> files;
    TailStats tail;
    ControlServerStats control;
    std::optional<DnsblExportStats> dnsbl;
    std::int64_t now_ms = 0;
    // What steering returns: why it refuses, or nullopt.
    std::optional<std::string> refusal;

    // --- what the test reads ---
    std::vector<Ban> bans;
    std::vector<Unban> unbans;
    int reloads = 0;
    int flushes = 0;
    std::vector<IpAddress> forgotten; // trust_forget's addresses

    // --- BandReadings ---
    std::chrono::seconds uptime() override { return up; }
    const std::vector<std::unique_ptr<JailRuntime>>& jails() override { return jail_runtimes; }
    const PipelineStats& pipeline_stats() override { return stats; }
    std::vector<FollowedLog> logs() override { return files; }
    TailStats tail_stats() override { return tail; }
    ControlServerStats control_stats() override { return control; }
    std::optional<DnsblExportStats> dnsbl_stats() override { return dnsbl; }
    std::int64_t log_now_ms() override { return now_ms; }

    // --- BandSteering ---
    std::optional<std::string> ban(std::size_t jail, const BanKey& key,
                                   std::chrono::seconds length) override {
        if (!refusal)
            bans.push_back({jail, key, length});
        return refusal;
    }
    std::optional<std::string> unban(const std::vector<BanKey>& keys, std::size_t jail) override {
        if (!refusal)
            unbans.push_back({keys, jail});
        return refusal;
    }
    std::optional<std::string> reload() override {
        ++reloads;
        return refusal;
    }
    std::optional<std::string> flush() override {
        ++flushes;
        return refusal;
    }
    std::optional<std::string> forget_trust(const IpAddress& address) override {
        if (!refusal) {
            forgotten.push_back(address);
            for (const auto& jail : jail_runtimes)
                jail->forget_trust(jail->key_of(address));
        }
        return refusal;
    }
};

} // namespace exim_ban::testing
