// The daemon's `stats` reply in Prometheus' text exposition format, for
// `exim-banctl stats --prometheus` (a node_exporter textfile or a scrape
// through a wrapper). Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace exim_ban {

// `stats`: the reply object of the control socket's "stats" command. Fields
// it lacks are left out of the text.
std::string prometheus_text(const nlohmann::json& stats);

} // namespace exim_ban
