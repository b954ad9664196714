#include "core/syslog_line.hpp"

#include "core/exim_line.hpp"
#include "core/text.hpp"

#include <array>

namespace exim_ban {
namespace {

// Digits at `pos` as a number, at most `most` of them (and at least one);
// advances pos past them. Returns nullopt when there is none.
std::optional<std::uint64_t> read_number(std::string_view text, std::size_t& pos,
                                         std::size_t most) {
    std::size_t q = pos;
    std::uint64_t value = 0;
    while (q < text.size() && is_digit(text[q]) && q - pos < most)
        value = value * 10 + static_cast<std::uint64_t>(text[q++] - '0');
    if (q == pos || (q < text.size() && is_digit(text[q])))
        return std::nullopt;
    pos = q;
    return value;
}

// Two digits at `pos`, or -1.
int two_digits(std::string_view text, std::size_t pos) {
    if (pos + 2 > text.size() || !is_digit(text[pos]) || !is_digit(text[pos + 1]))
        return -1;
    return (text[pos] - '0') * 10 + (text[pos + 1] - '0');
}

// "Z" or "+hh:mm"/"-hh:mm" at `pos` (or "+hhmm", as journalctl's
// short-iso-precise output writes it): seconds east of UTC.
std::optional<std::int32_t> read_rfc3339_offset(std::string_view text, std::size_t& pos) {
    if (pos < text.size() && text[pos] == 'Z') {
        ++pos;
        return 0;
    }
    if (pos + 5 > text.size() || (text[pos] != '+' && text[pos] != '-'))
        return std::nullopt;
    const bool colon = text[pos + 3] == ':';
    const int hours = two_digits(text, pos + 1), minutes = two_digits(text, pos + (colon ? 4 : 3));
    if (hours < 0 || minutes < 0 || hours > 14 || minutes > 59)
        return std::nullopt;
    const std::int32_t offset = (hours * 3600 + minutes * 60) * (text[pos] == '-' ? -1 : 1);
    pos += colon ? 6 : 5;
    return offset;
}

} // namespace

std::optional<SyslogPart> read_part_mark(std::string_view text, std::size_t& pos) {
    if (pos >= text.size() || text[pos] != '[')
        return std::nullopt;
    std::size_t q = pos + 1;
    const std::optional<std::uint64_t> index = read_number(text, q, 5);
    if (!index || q >= text.size() || (text[q] != '/' && text[q] != '\\'))
        return std::nullopt;
    const bool ends_line = text[q] == '\\';
    ++q;
    const std::optional<std::uint64_t> total = read_number(text, q, 5);
    if (!total || q + 1 >= text.size() || text[q] != ']' || text[q + 1] != ' ')
        return std::nullopt;
    // Exim numbers from 1 and marks only an entry of two parts or more.
    if (*index < 1 || *total < 2 || *index > *total)
        return std::nullopt;
    pos = q + 2;
    return SyslogPart{static_cast<unsigned>(*index), static_cast<unsigned>(*total), ends_line};
}

std::optional<YearlessTime> read_rfc3164_date(std::string_view text, std::size_t& pos) {
    static constexpr std::array<std::string_view, 12> months = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (pos + 16 > text.size())
        return std::nullopt;
    const std::string_view d = text.substr(pos, 16);
    if (d[3] != ' ' || d[6] != ' ' || d[9] != ':' || d[12] != ':' || d[15] != ' ')
        return std::nullopt;
    unsigned month = 0;
    while (month < months.size() && months[month] != d.substr(0, 3))
        ++month;
    const int day = d[4] == ' ' ? (is_digit(d[5]) ? d[5] - '0' : -1) : two_digits(d, 4);
    const int hour = two_digits(d, 7), minute = two_digits(d, 10), second = two_digits(d, 13);
    if (month == months.size() || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 ||
        minute > 59 || second < 0 || second > 60)
        return std::nullopt;
    pos += 16;
    return YearlessTime{month + 1, static_cast<unsigned>(day), hour * 3600 + minute * 60 + second};
}

std::optional<SyslogTag> read_syslog_tag(std::string_view text, std::size_t& pos,
                                         SyslogProgram program) {
    const std::size_t host_end = text.find(' ', pos);
    if (host_end == std::string_view::npos || host_end == pos)
        return std::nullopt;
    const std::size_t ident_start = host_end + 1;
    std::size_t q = ident_start;
    const std::string_view name = program == SyslogProgram::exim ? "exim" : "dovecot";
    if (text.substr(q, name.size()) == name) {
        q += name.size();
        while (q < text.size() &&
               (is_digit(text[q]) || text[q] == '_' || text[q] == '-' || is_lower(text[q])))
            ++q;
    } else if (program == SyslogProgram::dovecot && text.substr(q, 4) == "auth" &&
               (text.substr(q + 4, 1) == "[" || text.substr(q + 4, 1) == ":")) {
        q += 4;
    } else {
        return std::nullopt;
    }
    SyslogTag tag{text.substr(pos, host_end - pos), text.substr(ident_start, q - ident_start),
                  std::nullopt};
    if (q < text.size() && text[q] == '[') {
        ++q;
        const std::optional<std::uint64_t> pid = read_number(text, q, 10);
        if (!pid || *pid > UINT32_MAX || q >= text.size() || text[q] != ']')
            return std::nullopt;
        tag.pid = static_cast<std::uint32_t>(*pid);
        ++q;
    }
    if (q >= text.size() || text[q] != ':')
        return std::nullopt;
    pos = q + 1;
    return tag;
}

std::optional<SyslogLine> split_syslog_line(std::string_view line, SyslogProgram program) {
    SyslogLine parsed;
    std::size_t pos = 0;
    if (!line.empty() && is_digit(line[0])) {
        parsed.time = read_date_time(line, pos, 'T');
        if (!parsed.time)
            return std::nullopt;
        // RFC 3339 allows any number of fraction digits; past the sixth
        // they say nothing a log time keeps.
        while (pos > 19 && line[19] == '.' && pos < line.size() && is_digit(line[pos]))
            ++pos;
        parsed.time->utc_offset = read_rfc3339_offset(line, pos);
        if (!parsed.time->utc_offset)
            return std::nullopt;
        if (pos >= line.size() || line[pos] != ' ')
            return std::nullopt;
        ++pos;
    } else {
        parsed.yearless_time = read_rfc3164_date(line, pos);
        if (!parsed.yearless_time)
            return std::nullopt;
    }
    const std::optional<SyslogTag> tag = read_syslog_tag(line, pos, program);
    if (!tag || pos >= line.size() || line[pos] != ' ')
        return std::nullopt;
    parsed.tag = *tag;
    ++pos;
    if (program == SyslogProgram::exim)
        parsed.part = read_part_mark(line, pos);
    parsed.text = line.substr(pos);
    return parsed;
}

} // namespace exim_ban
