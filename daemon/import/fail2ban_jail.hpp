// A fail2ban jail's settings as exim-ban settings: the pure half of
// `exim-banctl import-fail2ban`. Takes the merged sections of fail2ban's
// jail files (jail.conf, jail.d/*.conf, jail.local, jail.d/*.local with
// their includes) and gives the exim-ban keys that say the same, each with
// the fail2ban file and line it came from, and a warning for each setting
// that exim-ban cannot follow. Renders them as a conf.d file.
#pragma once

#include "core/jail_policy.hpp"
#include "filter/filter_sections.hpp"
#include "filter/filter_spec.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace exim_ban {

// What exim-ban's configuration already holds for the jail written to.
struct ImportTarget {
    std::string jail;                    // the exim-ban jail
    std::optional<std::string> ignoreip; // its effective ignoreip, when the jail exists
    JailPolicy policy;                   // its effective policy (built-in for a new jail)
    // Why exim-ban cannot load the filter (from its filters directory);
    // nullopt when it can.
    std::function<std::optional<std::string>(const FilterSpec&)> filter_error;
};

struct ImportedSetting {
    std::string key;    // exim-ban's key
    std::string value;  // as exim-ban.conf(5) writes it
    std::string origin; // "FILE:LINE: fail2ban-key = fail2ban text", or why it is written
};

struct JailImport {
    std::vector<ImportedSetting> settings; // in the order they are written
    std::vector<std::string> warnings;     // each a sentence: what, why, what was done instead
};

// The exim-ban jail that fail2ban's jail NAME becomes: lower case, '-' as
// '_' ("exim-spam" -> "exim_spam"); nullopt when that still cannot name an
// nft set ([a-z][a-z0-9_]{0,23}).
std::optional<std::string> exim_ban_jail_name(const std::string& fail2ban_jail);

// Maps [fail2ban_jail] (with [DEFAULT] and %(...)s interpolation, and
// %(__name__)s as the jail's name). Keys fail2ban leaves at its built-in
// default are not written, except bantime.increment, which is off in
// fail2ban and on in exim-ban. Never throws for a value it cannot read: that
// is a warning, and the key is not written.
JailImport map_fail2ban_jail(const FilterSections& sections, const std::string& fail2ban_jail,
                             const ImportTarget& target);

// What the header of the conf.d file says about where it came from.
struct ImportSource {
    std::vector<std::string> jail_files; // fail2ban's files, in the order read
    std::string database;                // fail2ban's database
    std::string fail2ban_jail;
    std::string written_at; // "2024-05-01 12:00:00 UTC"
};

// The conf.d file: a comment header (source, warnings), then [jail] with
// each setting below a comment naming its origin.
std::string import_conf_text(const JailImport& import, const std::string& jail,
                             const ImportSource& source);

} // namespace exim_ban
