#include "band/store_opening.hpp"

#include "band/band_service.hpp"
#include "store/database_quarantine.hpp"
#include "store/sqlite_store.hpp"

#include <spdlog/spdlog.h>

namespace exim_ban {

std::unique_ptr<SqliteStore> open_band_store(const std::filesystem::path& database,
                                             bool rebuild_damaged, std::time_t now) {
    try {
        auto store = std::make_unique<SqliteStore>(database);
        if (rebuild_damaged)
            spdlog::info("--rebuild-db: database {} is intact and stays as it is",
                         database.string());
        return store;
    } catch (const StoreOpenError& error) {
        if (!error.damaged())
            throw StartupError(error.what() +
                               std::string(rebuild_damaged
                                               ? " (--rebuild-db moves only a damaged database)"
                                               : ""));
        if (!rebuild_damaged)
            throw StartupError(error.what() +
                               std::string("; exim-band --rebuild-db does that and rebuilds the "
                                           "state from the logs (see exim-band(8))"));
        spdlog::warn("{}", error.what());
    }
    std::filesystem::path moved;
    try {
        moved = quarantine_database(database, now);
    } catch (const std::filesystem::filesystem_error& error) {
        throw StartupError("--rebuild-db: cannot move " + error.path1().string() +
                           " aside: " + error.code().message() + "; move database " +
                           database.string() + " and its -wal and -shm files aside by hand");
    }
    // Without committed offsets the tailer reads every log from its start:
    // the hits and bans still in the logs come back, judged in log time.
    spdlog::warn("--rebuild-db: database {} moved aside to {} (with its -wal and -shm files, if "
                 "any); a new one is made and the logs are read again from their start",
                 database.string(), moved.string());
    try {
        return std::make_unique<SqliteStore>(database);
    } catch (const StoreOpenError& error) {
        throw StartupError(error.what());
    }
}

} // namespace exim_ban
