#include "journal/journal_start.hpp"

#include "journal/journal_source.hpp"

#include <charconv>

namespace exim_ban {

std::optional<std::uint64_t> cursor_realtime(std::string_view cursor) {
    // sd-journal's cursors are "s=...;i=...;b=...;m=...;t=...;x=...".
    while (!cursor.empty()) {
        const auto end = cursor.find(';');
        const std::string_view field = cursor.substr(0, end);
        if (field.starts_with("t=")) {
            std::uint64_t value = 0;
            const auto [at, error] =
                std::from_chars(field.data() + 2, field.data() + field.size(), value, 16);
            if (error == std::errc{} && at == field.data() + field.size() && field.size() > 2)
                return value;
            return std::nullopt;
        }
        if (end == std::string_view::npos)
            break;
        cursor.remove_prefix(end + 1);
    }
    return std::nullopt;
}

JournalStart journal_start(const std::string& name, const std::vector<LogPosition>& committed) {
    const std::string prefix = journal_source_name("");
    JournalStart newest;
    std::uint64_t newest_time = 0;
    for (const auto& position : committed) {
        if (position.path == name)
            return {position.cursor, {}};
        if (!position.path.starts_with(prefix) || position.cursor.empty())
            continue;
        const auto time = cursor_realtime(position.cursor);
        if (time && (newest.cursor.empty() || *time > newest_time)) {
            newest = {position.cursor, position.path};
            newest_time = *time;
        }
    }
    return newest;
}

} // namespace exim_ban
