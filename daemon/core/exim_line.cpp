#include "core/exim_line.hpp"

#include "core/syslog_line.hpp"
#include "core/text.hpp"

namespace exim_ban {
namespace {

// Reads `count` digits at `pos`; returns -1 when they are not all digits.
int digits_at(std::string_view text, std::size_t pos, std::size_t count) {
    if (pos + count > text.size())
        return -1;
    int value = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
        if (!is_digit(text[i]))
            return -1;
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

// The digit's value, or more than 9 when `c` is no digit.
unsigned digit(char c) {
    return static_cast<unsigned>(static_cast<unsigned char>(c)) - '0';
}

// "YYYY-MM-DD" Separator "HH:MM:SS[.d{1,6}]", with Exim's "[ +hhmm]" after
// it when EximOffset; advances pos past it. Straight-line code: this runs
// once for every line of every log, so the shape is a template argument
// and the mainlog's path compares with constants.
template <char Separator, bool EximOffset>
std::optional<LogTime> date_time_at(std::string_view text, std::size_t& pos) {
    const std::size_t p = pos;
    if (p > text.size() || text.size() - p < 19)
        return std::nullopt;
    const char* s = text.data() + p;
    if (s[4] != '-' || s[7] != '-' || s[10] != Separator || s[13] != ':' || s[16] != ':')
        return std::nullopt;
    const unsigned y0 = digit(s[0]), y1 = digit(s[1]), y2 = digit(s[2]), y3 = digit(s[3]);
    const unsigned mo0 = digit(s[5]), mo1 = digit(s[6]), d0 = digit(s[8]), d1 = digit(s[9]);
    const unsigned h0 = digit(s[11]), h1 = digit(s[12]), mi0 = digit(s[14]), mi1 = digit(s[15]);
    const unsigned s0 = digit(s[17]), s1 = digit(s[18]);
    const bool all_digits = y0 < 10 && y1 < 10 && y2 < 10 && y3 < 10 && mo0 < 10 && mo1 < 10 &&
                            d0 < 10 && d1 < 10 && h0 < 10 && h1 < 10 && mi0 < 10 && mi1 < 10 &&
                            s0 < 10 && s1 < 10;
    if (!all_digits)
        return std::nullopt;
    const unsigned year = y0 * 1000 + y1 * 100 + y2 * 10 + y3, month = mo0 * 10 + mo1,
                   day = d0 * 10 + d1;
    const unsigned hour = h0 * 10 + h1, minute = mi0 * 10 + mi1, second = s0 * 10 + s1;
    if (hour > 23 || minute > 59 || second > 60)
        return std::nullopt;

    // Consecutive lines almost always share their date: remember the last
    // one rather than redo the calendar arithmetic for every line.
    thread_local unsigned cached_date = 0;
    thread_local std::int64_t cached_days = 0;
    const unsigned date = (year * 100 + month) * 100 + day;
    if (date != cached_date) {
        if (!is_valid_date(year, month, day))
            return std::nullopt;
        cached_days = days_from_civil(year, month, day);
        cached_date = date;
    }
    LogTime time;
    time.wall_seconds =
        cached_days * 86400 + std::int64_t{hour} * 3600 + std::int64_t{minute} * 60 + second;
    std::size_t q = p + 19;
    if (q < text.size() && text[q] == '.') {
        std::size_t digits = 0;
        int fraction = 0;
        while (q + 1 + digits < text.size() && is_digit(text[q + 1 + digits]) && digits < 6)
            fraction = fraction * 10 + (text[q + 1 + digits++] - '0');
        if (digits == 0)
            return std::nullopt;
        for (std::size_t d = digits; d < 3; ++d)
            fraction *= 10;
        for (std::size_t d = 3; d < digits; ++d)
            fraction /= 10;
        time.milliseconds = fraction;
        q += 1 + digits;
    }
    if (EximOffset && q + 6 <= text.size() && text[q] == ' ' &&
        (text[q + 1] == '+' || text[q + 1] == '-') &&
        (q + 6 == text.size() || text[q + 6] == ' ')) {
        const int hh = digits_at(text, q + 2, 2), mm = digits_at(text, q + 4, 2);
        if (hh >= 0 && mm >= 0 && hh <= 14 && mm <= 59) {
            const int offset = (hh * 3600 + mm * 60) * (text[q + 1] == '-' ? -1 : 1);
            time.utc_offset = offset;
            q += 6;
        }
    }
    pos = q;
    return time;
}

// Exim's "YYYY-MM-DD HH:MM:SS[.d{1,6}][ +hhmm]" at pos; advances pos past it.
std::optional<LogTime> read_timestamp(std::string_view text, std::size_t& pos) {
    return date_time_at<' ', true>(text, pos);
}

// What follows the time (and tag) and its space: up to two "[pid] " fields
// (Exim's +pid, and syslog-ng's copy of it), then the message.
std::optional<std::string_view> exim_message(std::string_view rest) {
    for (int i = 0; i < 2; ++i) {
        if (rest.size() > 2 && rest[0] == '[' && is_digit(rest[1])) {
            std::size_t q = 2;
            while (q < rest.size() && is_digit(rest[q]))
                ++q;
            if (q < rest.size() && rest[q] == ']') {
                if (q + 1 >= rest.size() || rest[q + 1] != ' ')
                    return std::nullopt;
                rest.remove_prefix(q + 2);
            }
        }
    }
    if (!rest.empty() && rest.back() == '\r')
        rest.remove_suffix(1);
    if (rest.empty() || rest.front() == ' ')
        return std::nullopt;
    return rest;
}

} // namespace

std::optional<LogTime> read_date_time(std::string_view text, std::size_t& pos, char separator) {
    return separator == ' ' ? date_time_at<' ', false>(text, pos)
                            : date_time_at<'T', false>(text, pos);
}

std::optional<EximLine> split_exim_line(std::string_view line) {
    std::size_t pos = 0;
    std::optional<LogTime> time = read_timestamp(line, pos);
    if (!time) {
        // A syslog or journal tag in front of Exim's own timestamp.
        pos = 0;
        read_rfc3164_date(line, pos);
        if (!read_syslog_tag(line, pos) || pos >= line.size() || line[pos] != ' ')
            return std::nullopt;
        ++pos;
        time = read_timestamp(line, pos);
        if (!time)
            return std::nullopt;
    } else if (pos < line.size() && line[pos] == ' ') {
        // Here the tag must name a pid: without one, "WORD exim...:" could
        // be the first words of a mainlog message.
        std::size_t after_tag = pos + 1;
        const std::optional<SyslogTag> tag = read_syslog_tag(line, after_tag);
        if (tag && tag->pid)
            pos = after_tag;
    }

    if (pos >= line.size() || line[pos] != ' ')
        return std::nullopt;
    const std::optional<std::string_view> message = exim_message(line.substr(pos + 1));
    if (!message)
        return std::nullopt;
    return EximLine{*time, *message};
}

std::optional<EximText> split_exim_text(std::string_view text) {
    std::size_t pos = 0;
    std::optional<LogTime> time = read_timestamp(text, pos);
    if (time) {
        if (pos >= text.size() || text[pos] != ' ')
            return std::nullopt;
        ++pos;
    }
    const std::optional<std::string_view> message = exim_message(text.substr(pos));
    if (!message)
        return std::nullopt;
    return EximText{time, *message};
}

} // namespace exim_ban
