#include "scan/scan_report.hpp"

#include "core/exim_line.hpp"

namespace exim_ban {

LineOutcome count_line(const LineMatcher& matcher, std::string_view line, bool cut,
                       ScanReport& report) {
    ++report.lines;
    if (cut)
        ++report.cut_lines;
    const std::optional<EximLine> parsed = split_exim_line(line);
    if (!parsed) {
        ++report.untimed_lines;
        ++report.missed;
        return LineOutcome::missed;
    }
    const LineMatch match = matcher.match(parsed->message);
    switch (match.kind) {
    case LineMatch::Kind::hit:
        ++report.matched;
        ++report.pattern_hits[match.pattern];
        ++report.hosts[match.host];
        return LineOutcome::matched;
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
