#include "journal/journal_line.hpp"

#include "core/line_splitter.hpp"
#include "core/log_time.hpp"

#include <cstdio>
#include <string_view>

namespace exim_ban {

bool format_journal_line(const JournalEntry& entry, std::string& line) {
    const auto seconds = static_cast<std::int64_t>(entry.realtime_us / 1'000'000);
    const auto micros = static_cast<unsigned>(entry.realtime_us % 1'000'000);
    char fraction[24];
    std::snprintf(fraction, sizeof fraction, ".%06u+00:00 ", micros);
    line = LogTime{seconds, 0, 0}.iso();
    line += fraction;
    line += entry.hostname.empty() ? std::string_view("localhost") : entry.hostname;
    line += ' ';
    const std::string& identifier = entry.identifier.empty() ? entry.command : entry.identifier;
    line += identifier.empty() ? std::string_view("-") : identifier;
    const std::string& pid = entry.syslog_pid.empty() ? entry.pid : entry.syslog_pid;
    if (!pid.empty()) {
        line += '[';
        line += pid;
        line += ']';
    }
    line += ": ";

    std::string_view message = entry.message;
    while (!message.empty() && message.back() == '\n')
        message.remove_suffix(1);
    bool cut = false;
    if (const auto newline = message.find('\n'); newline != std::string_view::npos) {
        message = message.substr(0, newline);
        cut = true;
    }
    line += message;
    if (line.size() > max_line_bytes) {
        line.resize(max_line_bytes);
        cut = true;
    }
    return cut;
}

} // namespace exim_ban
