// Any bytes through the small parsers of attacker- and admin-written text:
// addresses, networks, durations, Exim timestamps and syslog lines (the
// input's lines through one log's reader of each format, Exim's split
// entries joined). What
// parses must print back to text that parses to the same value.
#include "core/duration.hpp"
#include "core/exim_line.hpp"
#include "core/ip_address.hpp"
#include "core/ip_prefix.hpp"
#include "core/log_reader.hpp"
#include "core/text.hpp"

#include <cstdint>
#include <cstdlib>

using namespace exim_ban;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (const auto address = IpAddress::parse(text)) {
        const auto again = IpAddress::parse(address->to_string());
        if (!again || !(*again == *address))
            std::abort();
    }
    if (const auto prefix = IpPrefix::parse(text)) {
        const auto again = IpPrefix::parse(prefix->to_string());
        if (!again || !(*again == *prefix))
            std::abort();
    }
    if (const auto duration = parse_duration(text)) {
        if (duration->count() < 0 || parse_duration(format_duration(*duration)) != duration)
            std::abort();
    }
    if (const auto line = split_exim_line(text)) {
        if (line->message.empty() || line->message.front() == ' ')
            std::abort();
    }
    for (const LogFormat format : {LogFormat::exim, LogFormat::dovecot}) {
        LogReader reader(format, [] { return std::int64_t{1'796'000'000}; });
        for_each_line(text, [&](std::string_view line, int) {
            const LogRead read = reader.read(line);
            if (read.kind == LogRead::Kind::entry &&
                (read.entry.message.empty() || read.entry.message.front() == ' '))
                std::abort();
        });
        reader.finish();
    }
    return 0;
}
