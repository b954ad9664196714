#include "band/list_reply.hpp"

#include "control/control_request.hpp"
#include "core/log_time.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>

namespace exim_ban {
namespace {

struct Row {
    const ListedBan* listed;
    std::string key;   // its text: the order of keys banned at the same time
    std::size_t order; // in the read, oldest start first
};

// `text` as a JSON string, escaped as encode_reply escapes it. Keys, times
// and jail names are plain ASCII: only other text goes through the library.
void append_string(std::string& out, const std::string& text) {
    const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
        return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    });
    if (!plain) {
        out += nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        return;
    }
    out += '"';
    out += text;
    out += '"';
}

// One ban, its fields in the order nlohmann::json keeps an object's keys.
void append_ban(std::string& out, const Row& row, const ListResult& kernel, std::int64_t now_ms) {
    const StoredBan& ban = row.listed->ban;
    const auto held = std::lower_bound(kernel.elements.begin(), kernel.elements.end(),
                                       std::tie(ban.jail, ban.key),
                                       [](const FirewallElement& element, const auto& wanted) {
                                           return std::tie(element.jail, element.key) < wanted;
                                       });
    const bool in_kernel =
        held != kernel.elements.end() && held->jail == ban.jail && held->key == ban.key;
    out += "{\"hits\":" + std::to_string(row.listed->lifetime_hits) + ",\"jail\":";
    append_string(out, ban.jail);
    out += ",\"key\":";
    append_string(out, row.key);
    out += ",\"origin\":";
    append_string(out, ban.origin);
    out += ",\"packets\":" + (in_kernel ? std::to_string(held->packets) : std::string("null")) +
           ",\"reason\":";
    append_string(out, ban.reason);
    out += ",\"remaining_s\":" + std::to_string((ban.expires * 1000 - now_ms + 999) / 1000) +
           ",\"since\":";
    append_string(out, LogTime{ban.start, 0, std::nullopt}.iso());
    out += '}';
}

} // namespace

std::string list_reply(const StoreRead<std::vector<ListedBan>>& bans, const ListResult& kernel,
                       const std::vector<std::string>& jails, std::int64_t now_ms) {
    if (!bans)
        return encode_reply({{"ok", false}, {"error", "list failed: " + bans.failure().message}});
    std::vector<Row> rows;
    rows.reserve(bans.value().size());
    for (const auto& listed : bans.value()) {
        const StoredBan& ban = listed.ban;
        if (std::find(jails.begin(), jails.end(), ban.jail) != jails.end())
            rows.push_back({&listed, ban.key.to_string(), rows.size()});
    }
    // A renewal (knock_extend) or a manual ban of a banned key leaves two
    // active rows: the one that ends last (of equal ends, the later) is the
    // ban in force.
    std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
        return std::tie(a.listed->ban.jail, a.key, a.order) <
               std::tie(b.listed->ban.jail, b.key, b.order);
    });
    std::vector<Row> in_force;
    in_force.reserve(rows.size());
    for (Row& row : rows) {
        if (!in_force.empty() && in_force.back().listed->ban.jail == row.listed->ban.jail &&
            in_force.back().key == row.key) {
            if (row.listed->ban.expires >= in_force.back().listed->ban.expires)
                in_force.back() = std::move(row);
            continue;
        }
        in_force.push_back(std::move(row));
    }
    std::stable_sort(in_force.begin(), in_force.end(), [](const Row& a, const Row& b) {
        return a.listed->ban.start < b.listed->ban.start;
    });
    std::string out = "{\"bans\":[";
    out.reserve(in_force.size() * 200);
    for (std::size_t i = 0; i < in_force.size(); ++i) {
        if (i > 0)
            out += ',';
        append_ban(out, in_force[i], kernel, now_ms);
    }
    out += ']';
    if (kernel.fault) {
        out += ",\"firewall_error\":";
        append_string(out, kernel.fault->message);
    }
    out += ",\"ok\":true}\n";
    return out;
}

} // namespace exim_ban
