#include "banctl/prometheus_text.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

TEST_CASE("stats in Prometheus' text format: counters, per-pattern hits, the histogram",
          "[banctl]") {
    const auto stats = nlohmann::json::parse(R"({
        "ok": true, "lines": 1200, "bans": 3, "unknown_field": 7,
        "patterns": [{"jail": "exim", "pattern": "/etc/exim-ban/filters.d/exim.conf:29", "hits": 9},
                     {"jail": "exim", "pattern": "quote\" and \\ back", "hits": 0}],
        "batch_latency": {"buckets": [{"le_ms": 0.5, "count": 4}, {"le_ms": 1.0, "count": 6},
                                      {"le_ms": "+Inf", "count": 7}],
                          "sum_s": 0.25, "count": 7}})");
    const std::string text = prometheus_text(stats);
    CHECK(text.find("# TYPE exim_ban_lines_total counter\nexim_ban_lines_total 1200\n") !=
          std::string::npos);
    CHECK(text.find("exim_ban_bans_total 3\n") != std::string::npos);
    CHECK(text.find("exim_ban_hits_total") == std::string::npos); // absent from the reply
    CHECK(text.find("unknown_field") == std::string::npos);
    CHECK(text.find("exim_ban_pattern_hits_total{jail=\"exim\",pattern=\"/etc/exim-ban/"
                    "filters.d/exim.conf:29\"} 9\n") != std::string::npos);
    CHECK(text.find(R"(pattern="quote\" and \\ back"} 0)") != std::string::npos);
    CHECK(text.find("exim_ban_batch_latency_seconds_bucket{le=\"0.0005\"} 4\n") !=
          std::string::npos);
    CHECK(text.find("exim_ban_batch_latency_seconds_bucket{le=\"+Inf\"} 7\n") != std::string::npos);
    CHECK(text.find("exim_ban_batch_latency_seconds_sum 0.25\n") != std::string::npos);
    CHECK(text.find("exim_ban_batch_latency_seconds_count 7\n") != std::string::npos);
}
