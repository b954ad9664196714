#include "band/band_control.hpp"

#include "core/duration.hpp"
#include "core/log_time.hpp"
#include "firewall/firewall.hpp"
#include "store/store.hpp"

#include <spdlog/spdlog.h>

namespace exim_ban {
namespace {

using nlohmann::json;

json failure(const std::string& error) {
    return {{"ok", false}, {"error", error}};
}

// A store that cannot be read fails the command, as the server reports a
// command that fails.
json read_failure(const std::string& cmd, const StoreFailure& store) {
    spdlog::error("control: \"{}\" failed: database: {}", cmd, store.message);
    return failure(cmd + " failed: " + store.message);
}

std::string iso(std::int64_t log_seconds) {
    return LogTime{log_seconds, 0, std::nullopt}.iso();
}

std::optional<std::string> text_field(const json& body, const char* name) {
    const auto found = body.find(name);
    if (found == body.end() || !found->is_string())
        return std::nullopt;
    return found->get<std::string>();
}

// The jail a request names (an index into the jails), all of them
// when it names none; an unknown name is an error text.
struct JailChoice {
    std::vector<std::size_t> jails;
    std::string error;
};
JailChoice choose_jails(const std::vector<std::unique_ptr<JailRuntime>>& jails, const json& body) {
    JailChoice choice;
    const auto name = text_field(body, "jail");
    for (std::size_t i = 0; i < jails.size(); ++i) {
        if (!name || jails[i]->name == *name)
            choice.jails.push_back(i);
    }
    if (choice.jails.empty()) {
        std::string known;
        for (const auto& jail : jails)
            known += (known.empty() ? "" : ", ") + jail->name;
        choice.error = "no jail " + name.value_or("") + " (jails: " + known + ")";
    }
    return choice;
}

// The trusted (key, account) pairs of the chosen jails as the reply lists
// them; with `address`, only those of its key.
json trust_entries(const std::vector<std::unique_ptr<JailRuntime>>& jails,
                   const std::vector<std::size_t>& chosen, std::int64_t now,
                   const std::optional<IpAddress>& address) {
    json entries = json::array();
    for (const std::size_t index : chosen) {
        const JailRuntime& jail = *jails[index];
        for (const TrustEntry& entry : jail.trusted(now)) {
            if (address && entry.key != jail.key_of(*address))
                continue;
            entries.push_back({{"jail", jail.name},
                               {"key", entry.key.to_string()},
                               {"account", entry.account},
                               {"last_seen", iso(entry.last_seen)},
                               {"until", iso(entry.last_seen + jail.policy().trust_time.count())}});
        }
    }
    return entries;
}

// The request's "ip", when it is an address.
std::optional<IpAddress> ip_field(const json& body) {
    const auto text = text_field(body, "ip");
    return text ? IpAddress::parse(*text) : std::nullopt;
}

} // namespace

BandControl::BandControl(BandReadings& readings, BandSteering& steering, Store& store,
                         BanListing& listing)
    : readings_(readings)
    , steering_(steering)
    , store_(store)
    , listing_(listing) {}

std::optional<json> BandControl::handle(const ControlRequest& request, const Reply& later) {
    const std::string& cmd = request.cmd;
    if (cmd == "status")
        return status();
    if (cmd == "list")
        return list(request.body, later);
    if (cmd == "show")
        return show(request.body);
    if (cmd == "ban")
        return ban(request.body);
    if (cmd == "unban")
        return unban(request.body);
    if (cmd == "stats")
        return stats();
    if (cmd == "trust_list")
        return trust_list(request.body);
    if (cmd == "trust_show")
        return trust_show(request.body);
    if (cmd == "trust_forget")
        return trust_forget(request.body);
    if (cmd == "reload") {
        if (auto error = steering_.reload())
            return failure("reload refused, the running configuration stays: " + *error);
        return json{{"ok", true}};
    }
    if (cmd == "flush") {
        if (auto error = steering_.flush())
            return failure(*error);
        return json{{"ok", true}};
    }
    return failure("unknown command " + cmd);
}

json BandControl::status() {
    json jails = json::array();
    for (const auto& jail : readings_.jails()) {
        jails.push_back({{"name", jail->name},
                         {"tracked_keys", jail->tracked_keys()},
                         {"dropped_keys", jail->dropped_keys()},
                         {"maxretry", jail->policy().maxretry},
                         {"findtime", jail->policy().findtime.count()},
                         {"bantime", jail->policy().bantime.count()}});
    }
    json files = json::array();
    for (const auto& log : readings_.logs()) {
        const LogPosition& position = log.position;
        files.push_back({{"path", position.path},
                         {"inode", position.inode},
                         {"offset", position.offset},
                         {"size", log.lag ? json(log.lag->size) : json(nullptr)},
                         {"lag_bytes", log.lag ? json(log.lag->bytes) : json(nullptr)}});
    }
    const PipelineStats& counts = readings_.pipeline_stats();
    return {{"ok", true},
            {"uptime_s", readings_.uptime().count()},
            {"jails", jails},
            {"files", files},
            {"lines", counts.lines},
            {"hits", counts.hits},
            {"bans", counts.bans},
            {"unbans", counts.unbans}};
}

// The bans and the kernel's elements are read, and the reply made, off the
// daemon's thread: 100,000 bans take a good part of a second, which would
// hold up every line and ban meanwhile.
std::optional<json> BandControl::list(const json& body, const Reply& later) {
    const JailChoice choice = choose_jails(readings_.jails(), body);
    if (!choice.error.empty())
        return failure(choice.error);
    std::vector<std::string> jails;
    for (const std::size_t index : choice.jails)
        jails.push_back(readings_.jails()[index]->name);
    listing_.list(std::move(jails), readings_.log_now_ms(), later);
    return std::nullopt;
}

json BandControl::show(const json& body) {
    const auto address = ip_field(body);
    if (!address)
        return failure("show needs \"ip\": an IPv4 or IPv6 address");
    json keys = json::array();
    for (const auto& jail : readings_.jails()) {
        const BanKey key = jail->key_of(*address);
        const auto recent = store_.hits_of(jail->name, key, 100);
        const auto stored = store_.bans_of(key);
        const auto history = store_.history(jail->name, key);
        if (!recent)
            return read_failure("show", recent.failure());
        if (!stored)
            return read_failure("show", stored.failure());
        if (!history)
            return read_failure("show", history.failure());
        json hits = json::array();
        for (const auto& hit : recent.value()) {
            hits.push_back({{"at", iso(hit.time)},
                            {"pattern", hit.pattern < jail->patterns().size()
                                            ? jail->patterns()[hit.pattern]
                                            : std::to_string(hit.pattern + 1)}});
        }
        json bans = json::array();
        for (const auto& ban : stored.value()) {
            if (ban.jail != jail->name)
                continue;
            bans.push_back({{"since", iso(ban.start)},
                            {"until", iso(ban.expires)},
                            {"duration_s", ban.expires - ban.start},
                            {"reason", ban.reason},
                            {"origin", ban.origin},
                            {"lifted", ban.lifted ? json(iso(ban.lifted)) : json(nullptr)}});
        }
        keys.push_back({{"jail", jail->name},
                        {"key", key.to_string()},
                        {"ignored", jail->ignores(*address)},
                        {"lifetime_hits", history->lifetime_hits},
                        {"recent_hits", hits},
                        {"bans", bans}});
    }
    return {{"ok", true}, {"ip", address->to_string()}, {"keys", keys}};
}

json BandControl::ban(const json& body) {
    const auto address = ip_field(body);
    if (!address)
        return failure("ban needs \"ip\": an IPv4 or IPv6 address");
    const JailChoice choice = choose_jails(readings_.jails(), body);
    if (!choice.error.empty())
        return failure(choice.error);
    std::optional<std::chrono::seconds> duration;
    if (const auto given = text_field(body, "for")) {
        duration = parse_duration(*given);
        if (!duration || duration->count() == 0)
            return failure("bad duration \"" + *given + "\" (e.g. 3600, 15m, 1h, 4w)");
    }
    json banned = json::array();
    for (const std::size_t index : choice.jails) {
        const JailRuntime& jail = *readings_.jails()[index];
        // Never ban what the jail must not: the same rule as for the log.
        if (jail.ignores(*address))
            return failure("refused: " + address->to_string() + " is loopback or on jail " +
                           jail.name + "'s ignore list");
        const BanKey key = jail.key_of(*address);
        if (jail.would_cover_ignored(key))
            return failure("refused: " + key.to_string() + " would cover an address on jail " +
                           jail.name + "'s ignore list");
        const auto length = duration.value_or(jail.policy().bantime);
        if (auto error = steering_.ban(index, key, length))
            return failure(*error);
        banned.push_back(
            {{"jail", jail.name}, {"key", key.to_string()}, {"duration_s", length.count()}});
    }
    return {{"ok", true}, {"banned", banned}};
}

json BandControl::unban(const json& body) {
    const JailChoice choice = choose_jails(readings_.jails(), body);
    if (!choice.error.empty())
        return failure(choice.error);
    const auto all = body.find("all");
    const bool every = all != body.end() && all->is_boolean() && all->get<bool>();
    const auto address = ip_field(body);
    if (!every && !address)
        return failure("unban needs \"ip\" (an IPv4 or IPv6 address) or \"all\": true");
    std::size_t lifted = 0;
    const auto active = store_.active_bans(readings_.log_now_ms() / 1000);
    if (!active)
        return read_failure("unban", active.failure());
    for (const std::size_t index : choice.jails) {
        const JailRuntime& jail = *readings_.jails()[index];
        std::vector<BanKey> keys;
        for (const auto& ban : active.value()) {
            if (ban.jail != jail.name)
                continue;
            if (every || ban.key == jail.key_of(*address))
                keys.push_back(ban.key);
        }
        if (keys.empty())
            continue;
        if (auto error = steering_.unban(keys, index))
            return failure(*error);
        lifted += keys.size();
    }
    return {{"ok", true}, {"unbanned", lifted}};
}

json BandControl::trust_list(const json& body) {
    const JailChoice choice = choose_jails(readings_.jails(), body);
    if (!choice.error.empty())
        return failure(choice.error);
    return {{"ok", true},
            {"trust", trust_entries(readings_.jails(), choice.jails, readings_.log_now_ms() / 1000,
                                    std::nullopt)}};
}

json BandControl::trust_show(const json& body) {
    const auto address = ip_field(body);
    if (!address)
        return failure("trust show needs \"ip\": an IPv4 or IPv6 address");
    std::vector<std::size_t> every(readings_.jails().size());
    for (std::size_t i = 0; i < every.size(); ++i)
        every[i] = i;
    return {
        {"ok", true},
        {"ip", address->to_string()},
        {"trust", trust_entries(readings_.jails(), every, readings_.log_now_ms() / 1000, address)}};
}

json BandControl::trust_forget(const json& body) {
    const auto address = ip_field(body);
    if (!address)
        return failure("trust forget needs \"ip\": an IPv4 or IPv6 address");
    std::vector<std::size_t> every(readings_.jails().size());
    for (std::size_t i = 0; i < every.size(); ++i)
        every[i] = i;
    const std::size_t forgotten =
        trust_entries(readings_.jails(), every, readings_.log_now_ms() / 1000, address).size();
    if (auto error = steering_.forget_trust(*address))
        return failure(*error);
    return {{"ok", true}, {"ip", address->to_string()}, {"forgotten", forgotten}};
}

json BandControl::stats() {
    const PipelineStats& s = readings_.pipeline_stats();
    json patterns = json::array();
    std::uint64_t dropped = 0;
    for (const auto& jail : readings_.jails()) {
        dropped += jail->dropped_keys();
        for (std::size_t i = 0; i < jail->pattern_hits().size(); ++i)
            patterns.push_back({{"jail", jail->name},
                                {"pattern", i < jail->patterns().size() ? jail->patterns()[i] : ""},
                                {"hits", jail->pattern_hits()[i]}});
    }
    json buckets = json::array();
    std::uint64_t batches = 0;
    for (std::size_t i = 0; i < s.batch_latency.counts().size(); ++i) {
        batches += s.batch_latency.counts()[i];
        buckets.push_back(
            {{"le_ms", i < batch_latency_buckets_ms.size() ? json(batch_latency_buckets_ms[i])
                                                           : json("+Inf")},
             {"count", batches}});
    }
    const TailStats tail = readings_.tail_stats();
    const ControlServerStats control = readings_.control_stats();
    json reply = {
        {"ok", true},
        {"lines", s.lines},
        {"cut_lines", s.cut_lines},
        {"untimed_lines", s.untimed_lines},
        {"dropped_parts", s.dropped_parts},
        {"hits", s.hits},
        {"ignored_hits", s.ignored_hosts},
        {"bans", s.bans},
        {"manual_bans", s.manual_bans},
        {"knock_renewals", s.knock_renewals},
        {"unbans", s.unbans},
        {"past_bans", s.past_bans},
        {"withheld_bans", s.withheld_bans},
        {"logins", s.logins},
        {"excused_mistakes", s.excused},
        {"dropped_keys", dropped},
        {"commits", s.commits},
        {"store_errors", s.store_failures},
        {"firewall_errors", s.firewall_failures},
        {"reconciles", s.reconciles},
        {"patterns", patterns},
        {"batch_latency",
         {{"buckets", buckets}, {"sum_s", s.batch_latency.seconds()}, {"count", batches}}},
        {"tail",
         {{"bytes", tail.bytes},
          {"rotations", tail.rotations},
          {"truncations", tail.truncations},
          {"late_lines", tail.late_lines},
          {"read_errors", tail.read_errors}}},
        {"control",
         {{"connections", control.connections},
          {"refused", control.refused},
          {"timed_out", control.timed_out},
          {"requests", control.requests},
          {"errors", control.errors},
          {"denied", control.denied}}}};
    if (const auto dnsbl = readings_.dnsbl_stats())
        reply["dnsbl"] = {{"writes", dnsbl->writes},
                          {"errors", dnsbl->failures},
                          {"ipv4", dnsbl->ipv4},
                          {"ipv6", dnsbl->ipv6}};
    return reply;
}

} // namespace exim_ban
