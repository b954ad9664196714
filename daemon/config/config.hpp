// exim-ban.conf after loading: one typed, validated value per setting, each
// with the place it came from (for `exim-banctl check-config`).
#pragma once

#include "core/cidr_set.hpp"
#include "core/jail_policy.hpp"
#include "core/journal_match.hpp"
#include "filter/filter_spec.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exim_ban {

enum class BlockType { drop, reject };

// The logpath word that stands for the systemd journal.
inline constexpr std::string_view journal_logpath = "journal";

// One of a jail's sources: logs and the filter their lines go through. A
// jail's own logpath and filter are its first source; each [JAIL/NAME]
// section adds one (a jail reading Exim's mainlog and Dovecot's journal
// entries counts one attacker's hits from both together).
struct SourceConfig {
    std::string section;               // "JAIL" or "JAIL/NAME": where its settings are
    std::vector<std::string> logpaths; // files; globs allowed
    // `journal` among the logpath words: the source reads the systemd
    // journal, the entries of `journalmatch`, else of its filter's [Init]
    // journalmatch (see config/journal_jail.hpp).
    bool journal = false;
    std::optional<JournalMatch> journalmatch; // the source's own
    FilterSpec filter;
};

struct JailConfig {
    std::string name; // [a-z][a-z0-9_]{0,23}: it names nft sets
    bool enabled = false;
    std::vector<SourceConfig> sources; // at least one
    JailPolicy policy;
    std::vector<std::uint16_t> ports; // empty: all ports
    BlockType blocktype = BlockType::drop;
    CidrSet ignore;                        // ignoreip (+ the host's own addresses with ignoreself)
    std::vector<std::string> ignore_files; // the file: lists it was read from
    bool ignoreself = true;
    std::size_t max_tracked_keys = 1'000'000;
};

struct Config {
    std::filesystem::path file; // the main config file
    std::filesystem::path database;
    std::filesystem::path socket;
    std::string control_group;
    std::filesystem::path dnsbl_zone; // empty: off
    std::chrono::seconds dnsbl_interval{1};
    // The addresses trusted now, as an Exim host list (see export/); empty:
    // off.
    std::filesystem::path trust_file;
    std::chrono::seconds dbpurgeage{86400};
    // How long a log renamed by a rotation must stay quiet before the tailer
    // stops reading the late lines Exim writes to it; 0: at once.
    std::chrono::seconds rotation_grace{300};
    std::filesystem::path filters_dir;
    std::vector<JailConfig> jails; // in the order they first appear

    // "section" -> "key" -> {effective text, where it came from}; every
    // setting, including defaults, for check-config.
    struct Origin {
        std::string value;
        std::string from; // "file:line" or "built-in default"
    };
    std::map<std::string, std::map<std::string, Origin>> origins;
    std::vector<std::string> warnings;

    const JailConfig* jail(const std::string& name) const;
};

} // namespace exim_ban
