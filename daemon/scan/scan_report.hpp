// What a scan of a log found: counts of lines by outcome, hits per pattern
// and per host. Filled line by line by `count_line`, which is pure.
#pragma once

#include "core/hit_tracker.hpp"
#include "core/ip_address.hpp"
#include "core/line_matcher.hpp"
#include "core/log_format.hpp"

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace exim_ban {

struct ScanReport {
    std::uint64_t lines = 0;
    std::uint64_t matched = 0;
    std::uint64_t missed = 0;        // everything not matched and not ignored
    std::uint64_t ignored = 0;       // matched a failregex, dropped by an ignoreregex
    std::uint64_t cut_lines = 0;     // longer than max_line_bytes (counted in lines too)
    std::uint64_t untimed_lines = 0; // no entry of the filter's program (no time): never matched
    // Syslog: lines that were a part of an entry Exim split, other than the
    // part that finished the entry's first line (which counts as the
    // entry: matched, ignored or missed). lines = matched + ignored +
    // missed + split_parts.
    std::uint64_t split_parts = 0;
    std::uint64_t dropped_parts = 0;         // of split_parts: their entry never completed
    std::uint64_t invalid_hosts = 0;         // a pattern matched text that is no IP address
    std::vector<std::uint64_t> pattern_hits; // matched lines per pattern
    // Failed attempts per host: a matched line's, as SessionAttempts counts
    // them (a summary of N attempts N, an attempt told twice once).
    std::unordered_map<IpAddress, std::uint64_t, IpAddressHash> hosts;
    double seconds = 0;
    // With a jail's policy (exim-banctl test --bans): the bans it would have
    // made, in log time, and the hits it would not count.
    std::vector<BanDecision> bans;
    std::uint64_t ignored_hosts = 0; // hits from ignored hosts
    std::uint64_t withheld_bans = 0; // bans due that would cover an ignored address

    explicit ScanReport(std::size_t patterns)
        : pattern_hits(patterns, 0) {}
};

enum class LineOutcome { matched, ignored, missed, part };

class LogReader;
class JailJudge;
class SessionAttempts;

// A hit kept to be judged once every log of a replay is read, in log time.
struct ScannedHit {
    std::int64_t time = 0;
    IpAddress host;
};

// What a scan does with a hit besides counting it: nothing, judge it at
// once through a jail's policy (one log: in its order), or keep it.
struct HitJudging {
    JailJudge* judge = nullptr;
    std::vector<ScannedHit>* kept = nullptr;
};

// The log's filter: its matcher, the format of the lines it reads, and the
// number of its first pattern in the report (a jail's sources' patterns are
// numbered across them).
struct ScanFilter {
    const LineMatcher& matcher;
    LogFormat format = LogFormat::exim;
    std::size_t first_pattern = 0;
};

// Reads one line of the log through its `reader`, matches and counts the
// entry it gives, its failed attempts counted by `sessions`; passes each
// attempt on as `judging` says (in the entry's own wall-clock time).
LineOutcome count_line(const ScanFilter& filter, LogReader& reader, SessionAttempts& sessions,
                       std::string_view line, bool cut, ScanReport& report,
                       const HitJudging& judging = {});

// A hit of `host` at `time` through the jail's policy: a ban, an ignored
// host or a withheld ban goes into the report.
void judge_hit(JailJudge& judge, const IpAddress& host, std::int64_t time, ScanReport& report);

} // namespace exim_ban
