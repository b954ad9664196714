#include "config/config_loader.hpp"

#include "config/host_list.hpp"
#include "core/duration.hpp"
#include "core/ini_document.hpp"
#include "core/jail_name.hpp"
#include "core/load_error.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

namespace exim_ban {
namespace {

const std::string default_section = "DEFAULT";
const std::string built_in = "built-in default";

// Settings a jail may set (also as defaults in [DEFAULT]).
const std::map<std::string, std::string> jail_defaults = {
    {"enabled", "false"},
    {"logpath", ""},
    {"journalmatch", ""}, // the filter's [Init] journalmatch
    {"filter", ""},       // the jail's own name
    {"maxretry", "5"},
    {"findtime", "10m"},
    {"bantime", "1h"},
    {"bantime.increment", "true"},
    {"bantime.factor", "2"},
    {"bantime.maxtime", "5w"},
    {"bantime.knock_extend", "false"},
    {"recidive_threshold", "50"},
    {"recidive_bantime", "4w"},
    {"ipv6_prefix", "64"},
    {"ports", ""}, // those of the services the jail's sources read
    {"blocktype", "drop"},
    {"ignoreip", "127.0.0.0/8 ::1"},
    {"ignoreself", "true"},
    {"max_tracked_keys", "1000000"},
    {"trust_time", "30d"},
    {"trust_maxretry", "20"},
};

// Settings of a source section [JAIL/NAME]: its own only, never [DEFAULT]'s
// (a [DEFAULT] logpath would send Exim's mainlog through Dovecot's filter).
const std::set<std::string> source_keys = {"logpath", "journalmatch", "filter"};

// The ports a jail closes when it does not say: those of the services its
// sources' filters read (Exim's SMTP, Dovecot's IMAP, POP3, ManageSieve and
// submission), as fail2ban's stock jails have them.
const std::vector<std::uint16_t> exim_ports = {25, 465, 587};
const std::vector<std::uint16_t> dovecot_ports = {110, 143, 465, 587, 993, 995, 4190};

// A source section's name "JAIL/NAME" split, or nullopt for a jail's.
std::optional<std::pair<std::string, std::string>> source_section(const std::string& section) {
    const std::size_t slash = section.find('/');
    if (slash == std::string::npos)
        return std::nullopt;
    return std::make_pair(section.substr(0, slash), section.substr(slash + 1));
}

// Settings of the daemon as a whole: [DEFAULT] only.
const std::map<std::string, std::string> global_defaults = {
    {"database", "/var/lib/exim-ban/exim-ban.db"},
    {"socket", "/run/exim-ban/control.sock"},
    {"control_group", "adm"},
    {"dnsbl_zone", ""},
    {"dnsbl_interval", "1s"},
    {"trust_file", ""},
    {"dbpurgeage", "1d"},
    {"rotation_grace", "5m"},
    {"filters_dir", ""}, // filters.d beside the config file
};

struct Value {
    std::string text;
    std::string file;
    int line = 0;
    std::string origin() const { return line > 0 ? file + ':' + std::to_string(line) : built_in; }
};

class Layers {
  public:
    void read(const std::filesystem::path& path, const TextFileReader& files, bool required) {
        const std::optional<std::string> text = files.read(path);
        if (!text) {
            if (required)
                throw LoadError(
                    path.string(), 0,
                    "no such file; give --config FILE or create it (see exim-ban.conf(5))");
            return;
        }
        for (const auto& section : parse_ini(*text, path.string()).sections) {
            if (std::find(order_.begin(), order_.end(), section.name) == order_.end())
                order_.push_back(section.name);
            auto& target = values_[section.name];
            for (const auto& entry : section.entries) {
                std::string joined;
                for (const auto& line : entry.value) {
                    const std::string_view part = trim(line.text);
                    if (part.empty())
                        continue;
                    if (!joined.empty())
                        joined += ' ';
                    joined.append(part);
                }
                target[entry.key] = {joined, entry.value.front().file, entry.value.front().line};
            }
        }
    }

    const std::vector<std::string>& sections() const { return order_; }
    const std::map<std::string, Value>* section(const std::string& name) const {
        auto found = values_.find(name);
        return found == values_.end() ? nullptr : &found->second;
    }

    // A section's own value, without [DEFAULT]'s.
    std::optional<Value> own(const std::string& section, const std::string& key) const {
        if (auto found = values_.find(section); found != values_.end()) {
            if (auto value = found->second.find(key); value != found->second.end())
                return value->second;
        }
        return std::nullopt;
    }

    // The value a section sees: its own, else [DEFAULT]'s, else the default.
    Value get(const std::string& section, const std::string& key,
              const std::string& fallback) const {
        for (const std::string* name : {&section, &default_section}) {
            if (auto found = values_.find(*name); found != values_.end()) {
                if (auto value = found->second.find(key); value != found->second.end())
                    return value->second;
            }
        }
        return {fallback, "", 0};
    }

  private:
    std::vector<std::string> order_;
    std::map<std::string, std::map<std::string, Value>> values_;
};

[[noreturn]] void fail(const Value& value, const std::string& key, const std::string& message) {
    throw LoadError(value.line > 0 ? value.file : "(built-in default)", value.line,
                    key + " = " + value.text + ": " + message);
}

bool to_bool(const Value& value, const std::string& key) {
    if (const std::optional<bool> flag = parse_bool(value.text))
        return *flag;
    fail(value, key, "expected true or false");
}

std::uint64_t to_number(const Value& value, const std::string& key, std::uint64_t min,
                        std::uint64_t max) {
    std::uint64_t number = 0;
    const char* end = value.text.data() + value.text.size();
    const auto [at, error] = std::from_chars(value.text.data(), end, number);
    if (error != std::errc{} || at != end || value.text.empty() || number < min || number > max)
        fail(value, key,
             "expected a whole number from " + std::to_string(min) + " to " + std::to_string(max));
    return number;
}

std::chrono::seconds to_duration(const Value& value, const std::string& key,
                                 bool allow_zero = false) {
    auto duration = parse_duration(value.text);
    if (!duration || (!allow_zero && duration->count() == 0))
        fail(value, key, "expected a duration such as 3600, 15m, 1h, 1d or 4w");
    return *duration;
}

std::filesystem::path beside(const std::filesystem::path& config, const std::string& path) {
    const std::filesystem::path given(path);
    return given.is_absolute() ? given : config.parent_path() / given;
}

class Builder {
  public:
    Builder(const std::filesystem::path& file, const TextFileReader& files,
            const std::vector<IpPrefix>& own)
        : file_(file)
        , files_(files)
        , own_(own) {
        layers_.read(file, files, true);
        std::filesystem::path local = file;
        local.replace_extension(".local");
        if (local != file)
            layers_.read(local, files, false);
        for (const auto& path : files.list(file.parent_path() / "conf.d")) {
            if (path.extension() == ".conf")
                layers_.read(path, files, false);
        }
    }

    Config build() {
        check_keys();
        config_.file = file_;
        config_.database = absolute_path("database");
        config_.socket = absolute_path("socket");
        const Value group = global("control_group");
        if (group.text.empty() || !std::all_of(group.text.begin(), group.text.end(), [](char c) {
                return is_lower(c) || is_digit(c) || c == '_' || c == '-';
            }))
            fail(group, "control_group", "expected a group name (letters, digits, '_' and '-')");
        config_.control_group = group.text;
        const Value zone = global("dnsbl_zone");
        config_.dnsbl_zone = zone.text.empty() ? std::filesystem::path{} : beside(file_, zone.text);
        config_.dnsbl_interval = to_duration(global("dnsbl_interval"), "dnsbl_interval");
        const Value trust_file = global("trust_file");
        config_.trust_file =
            trust_file.text.empty() ? std::filesystem::path{} : beside(file_, trust_file.text);
        config_.dbpurgeage = to_duration(global("dbpurgeage"), "dbpurgeage");
        const Value grace = global("rotation_grace");
        config_.rotation_grace = to_duration(grace, "rotation_grace", true);
        // Past an hour a rotated log's descriptor and disk space are held for
        // writers that are surely gone.
        if (config_.rotation_grace > std::chrono::hours(1))
            fail(grace, "rotation_grace", "expected a duration from 0 to 1h");
        const Value filters = global("filters_dir");
        config_.filters_dir =
            filters.text.empty() ? file_.parent_path() / "filters.d" : beside(file_, filters.text);
        config_.origins[default_section]["filters_dir"].value = config_.filters_dir.string();

        for (const auto& section : layers_.sections()) {
            if (section != default_section && !source_section(section))
                config_.jails.push_back(build_jail(section));
        }
        for (const auto& section : layers_.sections()) {
            const auto names = source_section(section);
            if (names && config_.jail(names->first) == nullptr)
                throw LoadError(where(section).file.empty() ? file_.string() : where(section).file,
                                where(section).line,
                                "[" + section + "] adds a source to jail [" + names->first +
                                    "], but there is no such jail; add a [" + names->first +
                                    "] section or rename this one");
        }
        return std::move(config_);
    }

  private:
    Value global(const std::string& key) {
        Value value = layers_.get(default_section, key, global_defaults.at(key));
        config_.origins[default_section][key] = {value.text, value.origin()};
        return value;
    }

    Value setting(const std::string& jail, const std::string& key) {
        Value value = layers_.get(jail, key, jail_defaults.at(key));
        config_.origins[jail][key] = {value.text, value.origin()};
        return value;
    }

    std::filesystem::path absolute_path(const std::string& key) {
        const Value value = global(key);
        if (value.text.empty() || value.text.front() != '/')
            fail(value, key, "expected an absolute path");
        return value.text;
    }

    // The first setting of a section, for errors about the section itself.
    Value where(const std::string& section) const {
        const auto* values = layers_.section(section);
        return values == nullptr || values->empty() ? Value{} : values->begin()->second;
    }

    void check_keys() {
        for (const auto& name : layers_.sections()) {
            const bool is_default = name == default_section;
            if (const auto names = source_section(name)) {
                check_source_keys(name, names->first);
                continue;
            }
            for (const auto& [key, value] : *layers_.section(name)) {
                if (jail_defaults.contains(key) || (is_default && global_defaults.contains(key)))
                    continue;
                if (global_defaults.contains(key))
                    throw LoadError(value.file, value.line,
                                    "\"" + key +
                                        "\" applies to the whole daemon: move it to [DEFAULT]");
                std::string known;
                for (const auto* table : {&jail_defaults, &global_defaults}) {
                    for (const auto& [known_key, unused] : *table)
                        known += (known.empty() ? "" : ", ") + known_key;
                }
                throw LoadError(value.file, value.line,
                                "unknown setting \"" + key + "\" in [" + name +
                                    "]; known settings: " + known);
            }
        }
    }

    void check_source_keys(const std::string& section, const std::string& jail) {
        const auto names = source_section(section);
        if (!is_jail_name(names->first) || !is_jail_name(names->second))
            throw LoadError(where(section).file.empty() ? file_.string() : where(section).file,
                            where(section).line,
                            "[" + section +
                                "]: a source section is [JAIL/NAME], both names matching "
                                "[a-z][a-z0-9_]{0,23}; rename the section");
        for (const auto& [key, value] : *layers_.section(section)) {
            if (source_keys.contains(key))
                continue;
            throw LoadError(value.file, value.line,
                            '"' + key + "\" cannot be set in source section [" + section +
                                "] (only logpath, journalmatch and filter); the jail's settings "
                                "go in [" +
                                jail + "]");
        }
        if (!layers_.own(section, "logpath"))
            throw LoadError(where(section).file.empty() ? file_.string() : where(section).file,
                            where(section).line,
                            "[" + section +
                                "] has no logpath; add logpath = FILE (or logpath = journal)");
    }

    // A source's settings: the jail's own (`section` = the jail's name,
    // [DEFAULT] filling in) or a [JAIL/NAME] section's (its own only; its
    // filter defaults to NAME).
    SourceConfig build_source(const std::string& section, const std::string& default_filter) {
        const bool own_section = !source_section(section);
        const auto value = [&](const std::string& key) {
            if (own_section)
                return setting(section, key);
            Value found = layers_.own(section, key).value_or(Value{});
            config_.origins[section][key] = {found.text, found.origin()};
            return found;
        };
        SourceConfig source;
        source.section = section;
        const Value logpath = value("logpath");
        for (auto& path : split_words(logpath.text)) {
            if (path == journal_logpath) {
                source.journal = true;
                continue;
            }
            // A relative path would follow the daemon's working directory;
            // "%(...)s" is fail2ban's interpolation, which this file has not.
            if (path.front() != '/' || path.find("%(") != std::string::npos)
                fail(logpath, "logpath",
                     "expected absolute paths or globs such as /var/log/exim4/mainlog, or "
                     "journal (exim-ban.conf has no %(name)s interpolation)");
            source.logpaths.push_back(std::move(path));
        }
        if (const Value journalmatch = value("journalmatch"); !journalmatch.text.empty()) {
            JournalMatchParse parsed = parse_journal_match(journalmatch.text);
            if (!parsed.match)
                fail(journalmatch, "journalmatch", parsed.error);
            source.journalmatch = std::move(parsed.match);
        }
        Value filter = value("filter");
        if (filter.text.empty()) {
            // Named by the section: an error about it points there.
            const Value at = where(section);
            filter = {default_filter, at.file, at.line};
            config_.origins[section]["filter"].value = default_filter;
        }
        try {
            source.filter = parse_filter_spec(filter.text);
        } catch (const std::invalid_argument& error) {
            fail(filter, "filter", error.what());
        }
        check_filter_exists(source.filter, filter);
        return source;
    }

    // The jail's own logpath and filter, unless it has none while [JAIL/NAME]
    // sections give its sources; then those.
    void build_sources(JailConfig& jail) {
        std::vector<std::string> added;
        for (const auto& section : layers_.sections()) {
            const auto names = source_section(section);
            if (names && names->first == jail.name)
                added.push_back(section);
        }
        if (added.empty() || !layers_.get(jail.name, "logpath", "").text.empty())
            jail.sources.push_back(build_source(jail.name, jail.name));
        for (const auto& section : added)
            jail.sources.push_back(build_source(section, source_section(section)->second));
    }

    // The ports of the services the jail's sources read, in order.
    static std::vector<std::uint16_t> service_ports(const JailConfig& jail) {
        std::set<std::uint16_t> ports;
        for (const auto& source : jail.sources) {
            const bool dovecot = source.filter.name.starts_with("dovecot");
            for (const std::uint16_t port : dovecot ? dovecot_ports : exim_ports)
                ports.insert(port);
        }
        return {ports.begin(), ports.end()};
    }

    JailConfig build_jail(const std::string& name) {
        JailConfig jail;
        jail.name = name;
        if (!is_jail_name(name)) {
            const Value first = where(name);
            throw LoadError(first.file.empty() ? file_.string() : first.file, first.line,
                            "[" + name +
                                "]: a jail name must match [a-z][a-z0-9_]{0,23} because it names "
                                "the nftables sets " +
                                name + "_v4 and " + name + "_v6; rename the section");
        }
        jail.enabled = to_bool(setting(name, "enabled"), "enabled");
        build_sources(jail);

        JailPolicy& policy = jail.policy;
        policy.maxretry =
            static_cast<unsigned>(to_number(setting(name, "maxretry"), "maxretry", 1, 1000));
        policy.findtime = to_duration(setting(name, "findtime"), "findtime");
        policy.bantime = to_duration(setting(name, "bantime"), "bantime");
        policy.increment = to_bool(setting(name, "bantime.increment"), "bantime.increment");
        const Value factor = setting(name, "bantime.factor");
        try {
            std::size_t used = 0;
            policy.factor = std::stod(factor.text, &used);
            if (used != factor.text.size() || !std::isfinite(policy.factor) ||
                policy.factor < 1.0 || policy.factor > 100.0)
                throw std::invalid_argument("range");
        } catch (const std::exception&) {
            fail(factor, "bantime.factor", "expected a number from 1 to 100, such as 2 or 1.5");
        }
        policy.maxtime = to_duration(setting(name, "bantime.maxtime"), "bantime.maxtime");
        policy.knock_extend =
            to_bool(setting(name, "bantime.knock_extend"), "bantime.knock_extend");
        policy.recidive_threshold =
            to_number(setting(name, "recidive_threshold"), "recidive_threshold", 0, 1'000'000'000);
        policy.recidive_bantime =
            to_duration(setting(name, "recidive_bantime"), "recidive_bantime");
        policy.ipv6_prefix =
            static_cast<int>(to_number(setting(name, "ipv6_prefix"), "ipv6_prefix", 16, 128));
        policy.trust_time = to_duration(setting(name, "trust_time"), "trust_time", true);
        policy.trust_maxretry = static_cast<unsigned>(
            to_number(setting(name, "trust_maxretry"), "trust_maxretry", 0, 100'000));

        const Value ports = setting(name, "ports");
        if (ports.line == 0) {
            jail.ports = service_ports(jail);
            std::string text;
            for (const std::uint16_t port : jail.ports)
                text += (text.empty() ? "" : ",") + std::to_string(port);
            config_.origins[name]["ports"].value = text;
        } else if (ports.text != "all") {
            for (const auto& word : split_words(ports.text)) {
                const Value one{word, ports.file, ports.line};
                jail.ports.push_back(static_cast<std::uint16_t>(to_number(one, "ports", 1, 65535)));
            }
            if (jail.ports.empty())
                fail(ports, "ports", "expected port numbers such as 25,465,587, or all");
        }
        const Value blocktype = setting(name, "blocktype");
        if (blocktype.text == "drop")
            jail.blocktype = BlockType::drop;
        else if (blocktype.text == "reject")
            jail.blocktype = BlockType::reject;
        else
            fail(blocktype, "blocktype", "expected drop or reject");

        jail.ignoreself = to_bool(setting(name, "ignoreself"), "ignoreself");
        read_ignore_list(jail, setting(name, "ignoreip"));
        if (jail.ignoreself) {
            for (const auto& address : own_)
                jail.ignore.add(address);
        }
        jail.max_tracked_keys =
            to_number(setting(name, "max_tracked_keys"), "max_tracked_keys", 1000, 100'000'000);

        const SourceConfig& first = jail.sources.front();
        if (jail.enabled && first.logpaths.empty() && !first.journal) {
            const Value at = where(name);
            throw LoadError(
                at.file.empty() ? file_.string() : at.file, at.line,
                "[" + name +
                    "] is enabled but has no logpath; add logpath = /var/log/exim4/mainlog "
                    "(or logpath = journal)");
        }
        return jail;
    }

    void check_filter_exists(const FilterSpec& spec, const Value& where) {
        if (spec.is_path()) {
            if (!files_.read(beside(file_, spec.name)))
                fail(where, "filter", "no such file");
            return;
        }
        for (const char* extension : {".conf", ".patterns"}) {
            if (files_.read(config_.filters_dir / (spec.name + extension)))
                return;
        }
        fail(where, "filter",
             "no filter " + spec.name + ".conf or " + spec.name + ".patterns in " +
                 config_.filters_dir.string() + "; check the name or set filters_dir in [DEFAULT]");
    }

    void read_ignore_list(JailConfig& jail, const Value& value) {
        for (const auto& word : split_words(value.text)) {
            if (word.starts_with("file:")) {
                const std::filesystem::path path = beside(file_, word.substr(5));
                jail.ignore_files.push_back(path.string());
                const std::optional<std::string> text = files_.read(path);
                if (!text) {
                    config_.warnings.push_back(value.origin() + ": ignoreip file " + path.string() +
                                               " does not exist; nothing ignored from it");
                    continue;
                }
                HostList list = parse_host_list(*text, path.string());
                for (const auto& network : list.networks)
                    jail.ignore.add(network);
                for (auto& warning : list.warnings)
                    config_.warnings.push_back(std::move(warning));
            } else if (auto network = IpPrefix::parse(word)) {
                jail.ignore.add(*network);
            } else {
                fail(value, "ignoreip",
                     "\"" + word +
                         "\" is not an IP address, a CIDR network or file:PATH (exim-ban does no "
                         "DNS)");
            }
        }
    }

    std::filesystem::path file_;
    const TextFileReader& files_;
    const std::vector<IpPrefix>& own_;
    Layers layers_;
    Config config_;
};

} // namespace

const JailConfig* Config::jail(const std::string& name) const {
    auto found = std::find_if(jails.begin(), jails.end(),
                              [&](const JailConfig& j) { return j.name == name; });
    return found == jails.end() ? nullptr : &*found;
}

Config load_config(const std::filesystem::path& file, const TextFileReader& files,
                   const std::vector<IpPrefix>& own_addresses) {
    return Builder(file, files, own_addresses).build();
}

} // namespace exim_ban
