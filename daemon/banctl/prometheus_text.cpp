#include "banctl/prometheus_text.hpp"

#include <array>
#include <sstream>

namespace exim_ban {
namespace {

// A counter of the stats reply, exposed as exim_ban_FIELD_total.
struct Counter {
    const char* field;
    const char* help;
};

constexpr std::array<Counter, 19> counters{{
    {"lines", "Log lines read."},
    {"cut_lines", "Lines longer than 16 KiB, cut."},
    {"untimed_lines", "Lines without an Exim timestamp."},
    {"dropped_parts", "Parts of syslog entries Exim split that never completed."},
    {"hits", "Hits counted against a key."},
    {"ignored_hits", "Hits of ignored hosts, not counted."},
    {"bans", "Bans made (from the log, by hand, renewed)."},
    {"manual_bans", "Bans made by hand."},
    {"knock_renewals", "Bans renewed because the host kept knocking (bantime.knock_extend)."},
    {"unbans", "Bans lifted by hand."},
    {"withheld_bans", "Bans not made: they would cover an ignored address."},
    {"logins", "Good logins that earned their key trust in the account."},
    {"excused_mistakes", "Failures of known users (trust) not counted as hits."},
    {"dropped_keys", "Keys forgotten at the tracker's cap."},
    {"commits", "Batches committed to the database."},
    {"store_errors", "Failed database commits (retried)."},
    {"firewall_errors", "Firewall changes refused or failed (reconciled later)."},
    {"reconciles", "Firewall reconciles with the database."},
    {"past_bans", "Bans already over when made (old lines)."},
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
        const std::string name = std::string("exim_ban_") + counter.field + "_total";
        out << "# HELP " << name << ' ' << counter.help << '\n'
            << "# TYPE " << name << " counter\n"
            << name << ' ' << found->dump() << '\n';
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
