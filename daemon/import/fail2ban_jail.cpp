#include "import/fail2ban_jail.hpp"

#include "config/config.hpp"
#include "core/duration.hpp"
#include "core/ini_document.hpp"
#include "core/ip_prefix.hpp"
#include "core/jail_name.hpp"
#include "core/journal_match.hpp"
#include "core/load_error.hpp"
#include "core/text.hpp"
#include "filter/filter_spec.hpp"
#include "import/fail2ban_duration.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <sstream>

namespace exim_ban {
namespace {

using std::chrono::seconds;

// Longest bantime.factor exim-ban accepts (exim-ban.conf(5)).
constexpr double max_factor = 100;

// ConfigParser.getboolean's words.
std::optional<bool> fail2ban_bool(std::string_view text) {
    return parse_bool(trim(text));
}

std::optional<double> number(std::string_view text) {
    text = trim(text);
    double value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || !std::isfinite(value))
        return std::nullopt;
    return value;
}

std::string number_text(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

// The mail ports fail2ban's jails name (/etc/services spelling).
std::optional<std::string> port_number(const std::string& word) {
    static const std::map<std::string, std::string> services = {
        {"smtp", "25"},   {"submission", "587"}, {"smtps", "465"}, {"submissions", "465"},
        {"ssmtp", "465"}, {"urd", "465"},        {"pop3", "110"},  {"pop3s", "995"},
        {"imap", "143"},  {"imap2", "143"},      {"imaps", "993"}, {"sieve", "4190"},
    };
    if (auto found = services.find(lower(word)); found != services.end())
        return found->second;
    unsigned port = 0;
    const auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), port);
    if (error == std::errc{} && end == word.data() + word.size() && port >= 1 && port <= 65535)
        return std::to_string(port);
    return std::nullopt;
}

// A value as the jail sees it, and where it was written.
struct Found {
    std::string text;   // interpolated, lines joined by '\n'
    std::string origin; // "FILE:LINE: key = value as written"
};

class JailMapper {
  public:
    JailMapper(const FilterSections& sections, const std::string& jail, const ImportTarget& target)
        : sections_(sections)
        , jail_(jail)
        , target_(target) {}

    JailImport map() {
        map_log();
        map_filter();
        map_ports();
        map_counting();
        map_bantime();
        map_ignore();
        return std::move(import_);
    }

  private:
    std::optional<Found> get(const std::string& key) {
        const IniValue* raw = sections_.raw(jail_, key);
        if (raw == nullptr || raw->empty())
            return std::nullopt;
        Found found;
        found.origin = raw->front().file + ':' + std::to_string(raw->front().line) + ": " + key +
                       " = " + raw->front().text;
        try {
            const IniValue value = sections_.interpolated(jail_, key);
            found.text = join_lines(value);
            // Where a reference led, when it was written elsewhere.
            if (!value.empty() && (value.front().file != raw->front().file ||
                                   value.front().line != raw->front().line))
                found.origin +=
                    " (" + value.front().file + ':' + std::to_string(value.front().line) + ')';
        } catch (const LoadError& error) {
            warn(found, std::string("cannot be resolved (") + error.what() + "); not imported");
            return std::nullopt;
        }
        found.text = std::string(trim(found.text));
        if (found.text.empty())
            return std::nullopt;
        return found;
    }

    void set(const std::string& key, std::string value, std::string origin) {
        import_.settings.push_back({key, std::move(value), std::move(origin)});
    }

    void warn(const Found& found, const std::string& message) {
        import_.warnings.push_back(found.origin + ": " + message);
    }
    void warn(const std::string& message) { import_.warnings.push_back(message); }

    // A value read as T, or nullopt (with a warning when it is written but
    // cannot be read).
    template <class T>
    struct Read {
        Found found;
        T value;
    };

    // The value read by `parse`; a value written that `parse` cannot read
    // is `complaint`'s warning.
    template <class Parse>
    auto get_read(const std::string& key, Parse parse, const std::string& complaint)
        -> std::optional<Read<typename decltype(parse(std::string_view{}))::value_type>> {
        auto found = get(key);
        if (!found)
            return std::nullopt;
        auto value = parse(found->text);
        if (!value) {
            warn(*found, complaint);
            return std::nullopt;
        }
        return Read<typename decltype(value)::value_type>{*found, *value};
    }

    std::optional<Read<bool>> get_bool(const std::string& key) {
        return get_read(key, fail2ban_bool, "not true or false; not imported");
    }

    std::optional<Read<Fail2banDuration>> get_duration(const std::string& key) {
        return get_read(key, parse_fail2ban_duration,
                        "exim-ban reads durations such as 600, 10m, 1h 30m, 2d, 1w, 1mo and -1, "
                        "not this expression; not imported");
    }

    void map_log() {
        const auto enabled = get_bool("enabled");
        std::optional<Found> logpath = get("logpath");
        bool wrote_logpath = false;
        if (auto backend = get("backend"); backend && backend->text.starts_with("systemd")) {
            // fail2ban then reads the journal, not logpath: so does exim-ban.
            set("logpath", std::string(journal_logpath), backend->origin);
            wrote_logpath = true;
            logpath.reset();
            if (auto match = get("journalmatch")) {
                if (parse_journal_match(match->text).match)
                    set("journalmatch", match->text, match->origin);
                else
                    warn(*match, "not a journal match exim-ban reads (FIELD=VALUE words, + "
                                 "between alternatives); not imported");
            }
        }
        if (logpath) {
            std::string paths;
            bool absolute = true;
            for_each_line(logpath->text, [&](std::string_view line, int) {
                std::vector<std::string> words = split_words(line);
                // "PATH tail" / "PATH head": where fail2ban starts reading.
                if (words.size() > 1 && (words.back() == "tail" || words.back() == "head"))
                    words.pop_back();
                for (const auto& word : words) {
                    paths += (paths.empty() ? "" : " ") + word;
                    absolute = absolute && word.starts_with('/');
                }
            });
            if (!absolute)
                warn(*logpath, "exim-ban reads log paths that start with '/' only; not imported");
            else if (!paths.empty()) {
                set("logpath", paths, logpath->origin);
                wrote_logpath = true;
            }
        }
        const bool on = enabled && enabled->value;
        if (on && wrote_logpath)
            set("enabled", "true", enabled->found.origin);
        else if (on)
            warn("fail2ban's [" + jail_ +
                 "] is enabled but has no logpath exim-ban can use; "
                 "enabled is left as exim-ban's configuration has it");
        else
            warn("fail2ban's [" + jail_ +
                 "] is not enabled; its settings are imported, enabled "
                 "is left as exim-ban's configuration has it");
    }

    void map_filter() {
        auto found = get("filter");
        if (!found)
            return;
        FilterSpec spec;
        try {
            spec = parse_filter_spec(found->text);
        } catch (const std::invalid_argument& error) {
            warn(*found, std::string(error.what()) + "; not imported");
            return;
        }
        if (spec.is_path()) {
            warn(*found, "a filter file's path; copy it into exim-ban's filters.d (it reads "
                         "fail2ban's syntax) and set filter; not imported");
            return;
        }
        if (auto error = target_.filter_error({spec.name, {}})) {
            warn(*found, "exim-ban cannot load the filter " + spec.name + " (" + *error +
                             "); if it is fail2ban's own, copy it into exim-ban's filters.d (it "
                             "reads fail2ban's syntax) and set filter; not imported");
            return;
        }
        // fail2ban hands every filter the parameters of the filter line
        // (its default passes mode); exim-ban refuses those a filter does
        // not use.
        FilterSpec kept{spec.name, {}};
        for (const auto& [name, value] : spec.parameters) {
            if (auto error = target_.filter_error({spec.name, {{name, value}}}))
                warn_dropped(*found, name, value, *error);
            else
                kept.parameters[name] = value;
        }
        set("filter", kept.to_string(), found->origin);
    }

    void warn_dropped(const Found& found, const std::string& name, const std::string& value,
                      const std::string& why) {
        warn(found, "parameter " + name + '=' + value + " dropped: " + why);
    }

    void map_ports() {
        auto found = get("port");
        if (!found)
            return;
        std::string ports;
        for (const auto& word : split_words(found->text)) {
            // fail2ban's "all ports" default is a range.
            if (word == "0:65535" || word == "1:65535") {
                set("ports", "all", found->origin);
                return;
            }
            auto port = port_number(word);
            if (!port) {
                warn(*found, "\"" + word +
                                 "\" is no port exim-ban knows (numbers, smtp, submission, "
                                 "smtps, submissions, pop3, pop3s, imap, imaps, sieve); ports "
                                 "not imported");
                return;
            }
            if (("," + ports + ",").find("," + *port + ",") == std::string::npos)
                ports += (ports.empty() ? "" : ",") + *port;
        }
        if (!ports.empty())
            set("ports", ports, found->origin);
    }

    void map_counting() {
        if (auto found = get("maxretry")) {
            const auto value = number(found->text);
            if (value && *value >= 1 && *value <= 1000 && std::floor(*value) == *value)
                set("maxretry", number_text(*value), found->origin);
            else
                warn(*found, "exim-ban's maxretry is a whole number from 1 to 1000; not imported");
        }
        if (auto findtime = get_duration("findtime")) {
            if (findtime->value.negative || findtime->value.seconds.count() == 0)
                warn(findtime->found, "findtime must be positive; not imported");
            else
                set("findtime", format_duration(findtime->value.seconds), findtime->found.origin);
        }
    }

    void map_bantime() {
        auto maxtime = get_duration("bantime.maxtime");
        if (maxtime && (maxtime->value.negative || maxtime->value.seconds.count() == 0)) {
            warn(maxtime->found, "bantime.maxtime must be positive; not imported");
            maxtime.reset();
        }
        std::optional<seconds> cap;
        if (maxtime)
            cap = maxtime->value.seconds;

        auto bantime = get_duration("bantime");
        std::optional<seconds> base;
        if (bantime && bantime->value.negative) {
            const seconds longest = cap.value_or(target_.policy.maxtime);
            warn(bantime->found,
                 "a permanent bantime: exim-ban has no permanent bans (the kernel expires each "
                 "one); written as bantime = " +
                     format_duration(longest) +
                     ", the longest ban bantime.maxtime allows, and current permanent bans "
                     "last that long from the import");
            set("bantime", format_duration(longest),
                bantime->found.origin + " (permanent: bantime.maxtime)");
        } else if (bantime && bantime->value.seconds.count() == 0) {
            warn(bantime->found, "bantime must be positive; not imported");
        } else if (bantime) {
            base = bantime->value.seconds;
            set("bantime", format_duration(*base), bantime->found.origin);
        }

        const auto increment = get_bool("bantime.increment");
        if (increment)
            set("bantime.increment", increment->value ? "true" : "false", increment->found.origin);
        else
            set("bantime.increment", "false", "fail2ban's built-in default (exim-ban's is true)");
        if (increment && increment->value) {
            if (auto table = map_growth(base))
                cap = cap ? std::min(*cap, *table) : *table;
            if (auto rndtime = get("bantime.rndtime"))
                warn(*rndtime, "exim-ban adds no random time to bans; not imported");
            if (auto overall = get_bool("bantime.overalljails"); overall && overall->value)
                warn(overall->found,
                     "exim-ban counts a host's earlier bans per jail; not imported");
            if (!maxtime && !cap)
                warn("fail2ban's [" + jail_ +
                     "] sets no bantime.maxtime (fail2ban then grows a ban up to 2^20 times "
                     "bantime); exim-ban's bantime.maxtime (" +
                     format_duration(target_.policy.maxtime) + ") caps it");
        }
        if (cap)
            set("bantime.maxtime", format_duration(*cap),
                maxtime ? maxtime->found.origin
                        : "the last of bantime.multipliers times bantime (fail2ban's cap)");
    }

    // How a ban grows with earlier bans. fail2ban: ban k (k earlier) lasts
    // bantime * 2^k * factor by its default formula, or bantime * factor *
    // multipliers[k]; exim-ban: bantime * factor^k. Returns the cap a
    // multiplier table sets (its last entry), if any.
    std::optional<seconds> map_growth(std::optional<seconds> bantime) {
        auto factor_found = get("bantime.factor");
        double f2b_factor = 1;
        if (factor_found) {
            if (auto value = number(factor_found->text); value && *value > 0)
                f2b_factor = *value;
            else
                warn(*factor_found, "not a positive number; taken as fail2ban's default 1");
        }
        if (auto multipliers = get("bantime.multipliers"))
            return map_multipliers(*multipliers, f2b_factor, bantime);
        if (auto formula = get("bantime.formula")) {
            warn(*formula, "exim-ban grows a ban as bantime * bantime.factor^(earlier bans), "
                           "it has no formula; bantime.factor not imported");
            return std::nullopt;
        }
        const std::string origin = "fail2ban's default formula doubles a ban for each earlier ban";
        if (factor_found && f2b_factor != 1)
            warn(*factor_found,
                 "fail2ban multiplies every repeated ban by this on top of doubling it; exim-ban "
                 "has no such constant: bantime.factor = 2 (the doubling) is written, so a "
                 "repeated ban lasts " +
                     number_text(1 / f2b_factor) + " times what fail2ban gave");
        set("bantime.factor", "2", factor_found ? factor_found->origin + "; " + origin : origin);
        return std::nullopt;
    }

    std::optional<seconds> map_multipliers(const Found& found, double f2b_factor,
                                           std::optional<seconds> bantime) {
        std::vector<double> table;
        for (const auto& word : split_words(found.text)) {
            auto value = number(word);
            if (!value || *value <= 0) {
                warn(found, "\"" + word + "\" is not a positive number; not imported");
                return std::nullopt;
            }
            table.push_back(*value);
        }
        // fail2ban uses multipliers[k] for a ban with k earlier bans (k >= 1;
        // the first ban is bantime) and the last one from then on: exim-ban
        // says the same when factor * multipliers[k] = ratio^k, and the last
        // multiplier is a cap.
        bool geometric = table.size() >= 2;
        const double ratio = geometric ? f2b_factor * table[1] : 0;
        for (std::size_t k = 2; geometric && k < table.size(); ++k) {
            const double wanted = std::pow(ratio, static_cast<double>(k));
            geometric = std::abs(f2b_factor * table[k] - wanted) <= 1e-9 * wanted;
        }
        if (!geometric || ratio < 1 || ratio > max_factor) {
            warn(found, "exim-ban grows a ban as bantime * bantime.factor^(earlier bans); "
                        "these multipliers do not grow by one ratio from 1 to 100; "
                        "bantime.factor not imported");
            return std::nullopt;
        }
        set("bantime.factor", number_text(ratio),
            found.origin + " (each multiplier " + number_text(ratio) + " times the one before)");
        if (!bantime)
            return std::nullopt;
        return seconds{static_cast<std::int64_t>(
            std::llround(static_cast<double>(bantime->count()) * f2b_factor * table.back()))};
    }

    void map_ignore() {
        if (auto self = get_bool("ignoreself"))
            set("ignoreself", self->value ? "true" : "false", self->found.origin);
        if (auto command = get("ignorecommand"))
            warn(*command, "exim-ban runs no command to decide whom to ignore; not imported");
        auto found = get("ignoreip");
        if (!found)
            return;
        const std::string existing = target_.ignoreip.value_or("127.0.0.0/8 ::1");
        std::vector<std::string> list = split_words(existing);
        std::vector<IpPrefix> covered;
        for (const auto& word : list) {
            if (auto network = IpPrefix::parse(word))
                covered.push_back(*network);
        }
        bool added = false;
        for (const auto& word : split_words(found->text)) {
            auto network = IpPrefix::parse(word);
            if (!network) {
                warn(*found, "\"" + word +
                                 "\" is no IP address or CIDR network (exim-ban does no DNS and "
                                 "reads no netmasks); skipped");
                continue;
            }
            const bool inside = std::any_of(covered.begin(), covered.end(), [&](const auto& wider) {
                return wider.length() <= network->length() && wider.contains(network->network());
            });
            if (!inside) {
                list.push_back(network->to_string());
                covered.push_back(*network);
                added = true;
            }
        }
        if (!added)
            return;
        std::string value;
        for (const auto& word : list)
            value += (value.empty() ? "" : " ") + word;
        if (!target_.ignoreip)
            warn(*found, "[" + target_.jail +
                             "] is new in exim-ban: its ignoreip is fail2ban's list and "
                             "exim-ban's built-in loopback; add what exim-ban's [DEFAULT] "
                             "ignoreip holds if it holds more");
        set("ignoreip", value,
            found->origin + (target_.ignoreip ? ", added to exim-ban's " + existing : ""));
    }

    const FilterSections& sections_;
    const std::string& jail_;
    const ImportTarget& target_;
    JailImport import_;
};

} // namespace

std::optional<std::string> exim_ban_jail_name(const std::string& fail2ban_jail) {
    std::string name = lower(fail2ban_jail);
    std::replace(name.begin(), name.end(), '-', '_');
    return is_jail_name(name) ? std::optional{name} : std::nullopt;
}

JailImport map_fail2ban_jail(const FilterSections& sections, const std::string& fail2ban_jail,
                             const ImportTarget& target) {
    // Python's ConfigParser gives every section %(__name__)s; jail.conf's
    // "filter = %(__name__)s[mode=%(mode)s]" needs it.
    FilterSections named = sections;
    named.merge(
        {"", {{fail2ban_jail, 0, {{"__name__", {{fail2ban_jail, "(the jail's name)", 0}}}}}}});
    return JailMapper(named, fail2ban_jail, target).map();
}

std::string import_conf_text(const JailImport& import, const std::string& jail,
                             const ImportSource& source) {
    std::ostringstream out;
    out << "# Imported from fail2ban by `exim-banctl import-fail2ban` on " << source.written_at
        << ":\n# fail2ban's jail [" << source.fail2ban_jail << "] as read from\n";
    for (const auto& file : source.jail_files)
        out << "#   " << file << '\n';
    out << "# with its bans from " << source.database << ".\n"
        << "# Read after exim-ban.conf and exim-ban.local; a later conf.d file overrides it.\n"
        << "# Above each setting: the fail2ban file and line it came from.\n";
    if (!import.warnings.empty()) {
        out << "#\n# Not imported, or imported differently:\n";
        for (const auto& warning : import.warnings)
            out << "#   " << warning << '\n';
    }
    out << "\n[" << jail << "]\n";
    for (const auto& setting : import.settings)
        out << "# " << setting.origin << '\n' << setting.key << " = " << setting.value << '\n';
    return out.str();
}

} // namespace exim_ban
