// The pipeline's counts since start-up, carried over a reload: each part
// counts what it does (BanPipeline the lines and hits, Batcher the commits
// and bans, FirewallHealth the failures and reconciles, BanAdmin the
// admin's and the knock watch's changes).
#pragma once

#include "pipeline/latency_histogram.hpp"

#include <cstdint>

namespace exim_ban {

struct PipelineStats {
    std::uint64_t lines = 0;
    std::uint64_t cut_lines = 0;
    std::uint64_t untimed_lines = 0;
    std::uint64_t dropped_parts = 0; // of syslog entries Exim split that never completed
    std::uint64_t hits = 0;          // counted against a key
    std::uint64_t ignored_hosts = 0; // hits of ignored hosts, not counted
    std::uint64_t logins = 0;        // good logins that earned trust
    std::uint64_t excused = 0;       // known users' mistakes, not counted
    std::uint64_t bans = 0;
    std::uint64_t past_bans = 0;     // made from old lines: stored, never enforced
    std::uint64_t withheld_bans = 0; // would have covered an ignored address
    std::uint64_t commits = 0;
    std::uint64_t store_failures = 0;
    std::uint64_t firewall_failures = 0; // elements refused or faults
    std::uint64_t reconciles = 0;
    std::uint64_t manual_bans = 0;
    std::uint64_t unbans = 0;
    std::uint64_t knock_renewals = 0; // bans renewed by bantime.knock_extend
    LatencyHistogram batch_latency;   // per batch of lines committed
};

} // namespace exim_ban
