#include "store/database_quarantine.hpp"

#include "store/database_files.hpp"

#include <cstdio>
#include <string>

namespace exim_ban {
namespace {

std::filesystem::path with_suffix(const std::filesystem::path& path, const char* suffix) {
    return path.string() + suffix;
}

bool names_free(const std::filesystem::path& target) {
    if (std::filesystem::exists(std::filesystem::symlink_status(target)))
        return false;
    for (const char* suffix : database_companion_suffixes) {
        if (std::filesystem::exists(std::filesystem::symlink_status(with_suffix(target, suffix))))
            return false;
    }
    return true;
}

} // namespace

std::filesystem::path quarantine_path(const std::filesystem::path& database, const std::tm& when,
                                      unsigned attempt) {
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "%04d%02d%02dT%02d%02d%02d", when.tm_year + 1900,
                  when.tm_mon + 1, when.tm_mday, when.tm_hour, when.tm_min, when.tm_sec);
    std::string name = database.string() + ".corrupt-" + stamp;
    if (attempt > 1)
        name += "-" + std::to_string(attempt);
    return name;
}

std::filesystem::path quarantine_database(const std::filesystem::path& database, std::time_t now) {
    std::tm local{};
    ::localtime_r(&now, &local);
    unsigned attempt = 1;
    std::filesystem::path target = quarantine_path(database, local, attempt);
    // A second rebuild within the same second must not overwrite the first.
    while (!names_free(target))
        target = quarantine_path(database, local, ++attempt);
    // Renamed the way SQLite names them, they stay a database SQLite (and
    // `sqlite3 .recover`) can open.
    for (const char* suffix : database_companion_suffixes) {
        const std::filesystem::path companion = with_suffix(database, suffix);
        if (std::filesystem::exists(std::filesystem::symlink_status(companion)))
            std::filesystem::rename(companion, with_suffix(target, suffix));
    }
    std::filesystem::rename(database, target);
    return target;
}

} // namespace exim_ban
