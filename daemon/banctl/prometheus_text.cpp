#include "banctl/prometheus_text.hpp"

#include <array>
#include <sstream>

namespace exim_ban {
namespace {

struct Counter {
    const char* field;
    const char* name;
    const char* help;
};

constexpr std::array<Counter, 16> counters{{
    {"lines", "exim_ban_lines_total", "Log lines read."},
    {"cut_lines", "exim_ban_cut_lines_total", "Lines longer than 16 KiB, cut."},
    {"untimed_lines", "exim_ban_untimed_lines_total", "Lines without an Exim timestamp."},
    {"hits", "exim_ban_hits_total", "Hits counted against a key."},
    {"ignored_hits", "exim_ban_ignored_hits_total", "Hits of ignored hosts, not counted."},
    {"bans", "exim_ban_bans_total", "Bans made (from the log, by hand, renewed)."},
    {"manual_bans", "exim_ban_manual_bans_total", "Bans made by hand."},
    {"knock_renewals", "exim_ban_knock_renewals_total",
     "Bans renewed because the host kept knocking (bantime.knock_extend)."},
    {"unbans", "exim_ban_unbans_total", "Bans lifted by hand."},
    {"withheld_bans", "exim_ban_withheld_bans_total",
     "Bans not made: they would cover an ignored address."},
    {"dropped_keys", "exim_ban_dropped_keys_total", "Keys forgotten at the tracker's cap."},
    {"commits", "exim_ban_commits_total", "Batches committed to the database."},
    {"store_errors", "exim_ban_store_errors_total", "Failed database commits (retried)."},
    {"firewall_errors", "exim_ban_firewall_errors_total",
     "Firewall changes refused or failed (reconciled later)."},
    {"reconciles", "exim_ban_reconciles_total", "Firewall reconciles with the database."},
    {"past_bans", "exim_ban_past_bans_total", "Bans already over when made (old lines)."},
}};

std::string label_value(const std::string& text) {
    std::string escaped;
    for (const char c : text) {
        if (c == '\\' || c == '"')
            escaped += '\\';
        if (c == '\n') {
            escaped += "\\n";
            continue;
        }
        escaped += c;
    }
    return escaped;
}

} // namespace

std::string prometheus_text(const nlohmann::json& stats) {
    std::ostringstream out;
    for (const auto& counter : counters) {
        const auto found = stats.find(counter.field);
        if (found == stats.end() || !found->is_number())
            continue;
        out << "# HELP " << counter.name << ' ' << counter.help << '\n'
            << "# TYPE " << counter.name << " counter\n"
            << counter.name << ' ' << found->dump() << '\n';
    }
    if (const auto patterns = stats.find("patterns"); patterns != stats.end()) {
        out << "# HELP exim_ban_pattern_hits_total Lines each failregex matched.\n"
            << "# TYPE exim_ban_pattern_hits_total counter\n";
        for (const auto& pattern : *patterns)
            out << "exim_ban_pattern_hits_total{jail=\"" << label_value(pattern.value("jail", ""))
                << "\",pattern=\"" << label_value(pattern.value("pattern", "")) << "\"} "
                << pattern.value("hits", 0) << '\n';
    }
    if (const auto latency = stats.find("batch_latency"); latency != stats.end()) {
        out << "# HELP exim_ban_batch_latency_seconds From a batch's commit to its bans in the "
               "kernel.\n"
            << "# TYPE exim_ban_batch_latency_seconds histogram\n";
        for (const auto& bucket : latency->value("buckets", nlohmann::json::array())) {
            const auto& le = bucket.at("le_ms");
            std::string bound = "+Inf";
            if (le.is_number()) {
                std::ostringstream seconds;
                seconds << le.get<double>() / 1000;
                bound = seconds.str();
            }
            out << "exim_ban_batch_latency_seconds_bucket{le=\"" << bound << "\"} "
                << bucket.value("count", 0) << '\n';
        }
        out << "exim_ban_batch_latency_seconds_sum " << latency->value("sum_s", 0.0) << '\n'
            << "exim_ban_batch_latency_seconds_count " << latency->value("count", 0) << '\n';
    }
    return out.str();
}

} // namespace exim_ban
