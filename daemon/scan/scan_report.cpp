#include "scan/scan_report.hpp"

#include "core/jail_judge.hpp"
#include "core/log_reader.hpp"
#include "core/session_attempts.hpp"

namespace exim_ban {

void judge_hit(JailJudge& judge, const IpAddress& host, std::int64_t time, ScanReport& report) {
    const auto outcome = judge.hit(host, time);
    if (outcome.verdict == JailJudge::Verdict::banned)
        report.bans.push_back(*outcome.ban);
    else if (outcome.verdict == JailJudge::Verdict::ignored)
        ++report.ignored_hosts;
    else if (outcome.verdict == JailJudge::Verdict::protected_)
        ++report.withheld_bans;
}

LineOutcome count_line(const ScanFilter& filter, LogReader& reader, SessionAttempts& sessions,
                       std::string_view line, bool cut, ScanReport& report,
                       const HitJudging& judging) {
    ++report.lines;
    if (cut) {
        // Exim never writes a line this long (it replaces one past its 8 KiB
        // buffer with an overflow notice), and a cut line ends in whatever
        // client text stood at the cut: an end-anchored pattern could take a
        // forged host from it.
        ++report.cut_lines;
        ++report.missed;
        return LineOutcome::missed;
    }
    const LogRead read = reader.read(line);
    report.dropped_parts += read.dropped_parts;
    if (read.kind == LogRead::Kind::part) {
        ++report.split_parts;
        return LineOutcome::part;
    }
    if (read.kind == LogRead::Kind::untimed) {
        ++report.untimed_lines;
        ++report.missed;
        return LineOutcome::missed;
    }
    const EximLine& entry = read.entry;
    const LineMatch match = filter.matcher.match(entry.message);
    switch (match.kind) {
    case LineMatch::Kind::hit: {
        ++report.matched;
        ++report.pattern_hits[filter.first_pattern + match.pattern];
        const std::uint32_t attempts = sessions.count(match.session, match.attempts);
        if (attempts > 0)
            report.hosts[match.host] += attempts;
        for (std::uint32_t n = 0; n < attempts; ++n) {
            if (judging.judge != nullptr)
                judge_hit(*judging.judge, match.host, entry.time.wall_seconds, report);
            if (judging.kept != nullptr)
                judging.kept->push_back({entry.time.wall_seconds, match.host});
        }
        return LineOutcome::matched;
    }
    case LineMatch::Kind::ignored:
        ++report.ignored;
        return LineOutcome::ignored;
    case LineMatch::Kind::invalid_host:
        ++report.invalid_hosts;
        break;
    case LineMatch::Kind::none:
        break;
    }
    ++report.missed;
    return LineOutcome::missed;
}

} // namespace exim_ban
