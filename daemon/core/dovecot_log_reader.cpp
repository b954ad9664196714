#include "core/dovecot_log_reader.hpp"

namespace exim_ban {

LogRead DovecotLogReader::read(std::string_view line) {
    const std::optional<DovecotLine> dovecot = split_dovecot_line(line);
    if (!dovecot)
        return LogRead{};
    const std::optional<LogTime> time =
        dovecot->time ? dates_.dated(*dovecot->time) : dates_.placed(*dovecot->yearless_time);
    if (!time)
        return LogRead{};
    return LogRead{LogRead::Kind::entry, EximLine{*time, dovecot->text}, 0};
}

} // namespace exim_ban
