// The active bans with each key's lifetime hits, read through a read-only
// connection of their own: what `exim-banctl list` shows, read beside the
// daemon's writing connection (WAL lets a reader and the writer proceed
// without blocking each other) and off the daemon's thread.
#pragma once

#include "store/store.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

namespace exim_ban {

class SqliteDatabase;

struct ListedBan {
    StoredBan ban;
    std::uint64_t lifetime_hits = 0; // of the key in the ban's jail
};

class BanListReader {
  public:
    // Opens nothing yet: the connection is opened by the first read, on the
    // thread that reads. One thread at a time may use a reader.
    explicit BanListReader(std::filesystem::path database);
    ~BanListReader();
    BanListReader(const BanListReader&) = delete;
    BanListReader& operator=(const BanListReader&) = delete;

    // Every ban not lifted whose expiry is after `now`, oldest start first,
    // with its key's lifetime hits in its jail (those counted and those of
    // the batches not counted yet, as SqliteStore::history counts them), all
    // from one snapshot of the database: one query, however many bans. A
    // failure when the database cannot be opened or read; a connection
    // that could not be opened is tried again by the next read.
    StoreRead<std::vector<ListedBan>> active_bans(std::int64_t now);

  private:
    std::filesystem::path path_;
    std::unique_ptr<SqliteDatabase> database_;
};

} // namespace exim_ban
