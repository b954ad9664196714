#include "core/dovecot_line.hpp"

#include "core/exim_line.hpp"
#include "core/syslog_line.hpp"
#include "core/text.hpp"

namespace exim_ban {
namespace {

// The value of a hex digit, or 16.
unsigned hex_value(char c) {
    if (is_digit(c))
        return static_cast<unsigned>(c - '0');
    if (c >= 'a' && c <= 'f')
        return static_cast<unsigned>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
        return static_cast<unsigned>(c - 'A' + 10);
    return 16;
}

// "@" then 24 hex digits (TAI64N: 2^62 + seconds, then nanoseconds) and a
// space at the start of `line`; advances pos past the space. The label is
// taken as UTC, as fail2ban does: TAI's ten-odd seconds ahead of UTC do not
// change what a findtime window counts.
std::optional<LogTime> read_tai64n(std::string_view line, std::size_t& pos) {
    if (line.size() < 26 || line[0] != '@' || line[25] != ' ')
        return std::nullopt;
    std::uint64_t seconds = 0, nanoseconds = 0;
    for (std::size_t i = 1; i < 25; ++i) {
        const unsigned digit = hex_value(line[i]);
        if (digit > 15)
            return std::nullopt;
        if (i <= 16)
            seconds = seconds * 16 + digit;
        else
            nanoseconds = nanoseconds * 16 + digit;
    }
    constexpr std::uint64_t epoch = std::uint64_t{1} << 62;
    // Years 1970 to 9999: the calendar arithmetic's range.
    if (seconds < epoch || seconds - epoch > 253'402'300'799ULL || nanoseconds > 999'999'999)
        return std::nullopt;
    pos = 26;
    return LogTime{static_cast<std::int64_t>(seconds - epoch),
                   static_cast<std::int32_t>(nanoseconds / 1'000'000), 0};
}

// Whether `text` starts with a Dovecot process name and its ':' or '('
// ("imap-login:", "auth-worker(9):", "dovecot-auth:", "imap(bob)<7><s>:").
bool starts_with_process(std::string_view text) {
    if (text.empty() || !is_lower(text[0]))
        return false;
    std::size_t q = 1;
    while (q < text.size() &&
           (is_lower(text[q]) || is_digit(text[q]) || text[q] == '-' || text[q] == '_'))
        ++q;
    return q < text.size() && (text[q] == ':' || text[q] == '(');
}

// What follows a date and its space: "HOST IDENT[PID]: TEXT" with a Dovecot
// ident, or Dovecot's own "PROCESS: TEXT".
std::optional<std::string_view> dovecot_text(std::string_view line, std::size_t pos) {
    std::size_t after_tag = pos;
    if (read_syslog_tag(line, after_tag, SyslogProgram::dovecot) && after_tag < line.size() &&
        line[after_tag] == ' ')
        pos = after_tag + 1;
    else if (!starts_with_process(line.substr(pos)))
        return std::nullopt;
    std::string_view text = line.substr(pos);
    if (!text.empty() && text.back() == '\r')
        text.remove_suffix(1);
    if (text.empty() || text.front() == ' ')
        return std::nullopt;
    return text;
}

} // namespace

std::optional<DovecotLine> split_dovecot_line(std::string_view line) {
    DovecotLine parsed;
    std::size_t pos = 0;
    if (line.starts_with('@')) {
        parsed.time = read_tai64n(line, pos);
        if (!parsed.time)
            return std::nullopt;
    } else if (!line.empty() && is_digit(line[0])) {
        parsed.time = read_date_time(line, pos, ' ');
        if (!parsed.time) {
            // RFC 3339: the syslog header's shape, Dovecot's idents.
            const std::optional<SyslogLine> syslog =
                split_syslog_line(line, SyslogProgram::dovecot);
            if (!syslog || syslog->text.empty() || syslog->text.front() == ' ')
                return std::nullopt;
            parsed.time = syslog->time;
            parsed.text = syslog->text;
            if (parsed.text.back() == '\r')
                parsed.text.remove_suffix(1);
            if (parsed.text.empty())
                return std::nullopt;
            return parsed;
        }
        if (pos >= line.size() || line[pos] != ' ')
            return std::nullopt;
        ++pos;
    } else {
        parsed.yearless_time = read_rfc3164_date(line, pos);
        if (!parsed.yearless_time)
            return std::nullopt;
    }
    const std::optional<std::string_view> text = dovecot_text(line, pos);
    if (!text)
        return std::nullopt;
    parsed.text = *text;
    return parsed;
}

} // namespace exim_ban
