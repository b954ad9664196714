#include "store/ban_list_reader.hpp"

#include "store/hit_record.hpp"
#include "store/sqlite_database.hpp"
#include "store/sqlite_failure.hpp"

#include <map>
#include <sqlite3.h>
#include <string>
#include <unordered_map>
#include <utility>

namespace exim_ban {
namespace {

// A reader waits for the writer's lock only while a checkpoint or a
// recovery holds it, which is short.
constexpr int busy_timeout_ms = 1000;

// Ends the read transaction however the read ends; a read-only
// transaction has nothing to keep, so its end cannot lose anything.
class ReadSnapshot {
  public:
    explicit ReadSnapshot(SqliteDatabase& database)
        : database_(database) {
        database_.execute("BEGIN");
    }
    ~ReadSnapshot() { sqlite3_exec(database_.handle(), "COMMIT", nullptr, nullptr, nullptr); }
    ReadSnapshot(const ReadSnapshot&) = delete;
    ReadSnapshot& operator=(const ReadSnapshot&) = delete;

  private:
    SqliteDatabase& database_;
};

using UncountedHits =
    std::map<std::string, std::unordered_map<BanKey, std::uint64_t, IpPrefixHash>>;

// The hits of the batches committed since the last count checkpoint: the
// daemon holds them in memory and adds them to history() the same way.
UncountedHits uncounted_hits(SqliteDatabase& database) {
    UncountedHits hits;
    SqliteStatement batches(database.handle(),
                            "SELECT jail, data FROM hit_batches WHERE id > (SELECT value FROM "
                            "meta WHERE name = 'counted_through')");
    while (batches.step()) {
        auto& keys = hits[batches.column_text(0)];
        const std::string data = batches.column_text(1);
        for (std::size_t i = 0; auto record = read_hit_record(data, i); ++i)
            ++keys[record->key];
    }
    return hits;
}

} // namespace

BanListReader::BanListReader(std::filesystem::path database)
    : path_(std::move(database)) {}

BanListReader::~BanListReader() = default;

StoreRead<std::vector<ListedBan>> BanListReader::active_bans(std::int64_t now) {
    return read_or_failure([&] {
        if (!database_) {
            auto opened = std::make_unique<SqliteDatabase>(path_, SqliteDatabase::Mode::read_only);
            sqlite3_busy_timeout(opened->handle(), busy_timeout_ms);
            database_ = std::move(opened);
        }
        ReadSnapshot snapshot(*database_);
        const UncountedHits uncounted = uncounted_hits(*database_);
        SqliteStatement rows(
            database_->handle(),
            "SELECT b.jail, b.key, b.start, b.expires, b.reason, b.origin, coalesce(k.hits, 0) "
            "FROM bans b LEFT JOIN key_hits k ON k.key = b.key AND k.jail = b.jail "
            "WHERE b.lifted IS NULL AND b.expires > ?1 ORDER BY b.start, b.id");
        rows.bind(1, now);
        std::vector<ListedBan> bans;
        while (rows.step()) {
            auto key = IpPrefix::parse(rows.column_text(1));
            if (!key)
                continue; // a row no exim-ban wrote, as SqliteStore::active_bans skips it
            ListedBan listed{{rows.column_text(0), *key, rows.column_int(2), rows.column_int(3),
                              rows.column_text(4), rows.column_text(5)},
                             static_cast<std::uint64_t>(rows.column_int(6))};
            if (const auto jail = uncounted.find(listed.ban.jail); jail != uncounted.end()) {
                if (const auto hits = jail->second.find(*key); hits != jail->second.end())
                    listed.lifetime_hits += hits->second;
            }
            bans.push_back(std::move(listed));
        }
        return bans;
    });
}

} // namespace exim_ban
