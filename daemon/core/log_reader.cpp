#include "core/log_reader.hpp"

#include <utility>

namespace exim_ban {
namespace {

std::variant<EximLogReader, DovecotLogReader> reader_for(LogFormat format,
                                                         std::function<std::int64_t()> now) {
    if (format == LogFormat::dovecot)
        return DovecotLogReader(std::move(now));
    return EximLogReader(std::move(now));
}

} // namespace

LogReader::LogReader(LogFormat format, std::function<std::int64_t()> now)
    : format_(format)
    , reader_(reader_for(format, std::move(now))) {}

std::uint64_t LogReader::finish() {
    if (auto* exim = std::get_if<EximLogReader>(&reader_))
        return exim->finish();
    return 0;
}

} // namespace exim_ban
