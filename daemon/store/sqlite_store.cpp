#include "store/sqlite_store.hpp"

#include "store/hit_record.hpp"
#include "store/schema.hpp"
#include "store/sqlite_failure.hpp"

#include <algorithm>
#include <functional>
#include <sqlite3.h>
#include <string>
#include <utility>
#include <vector>

namespace exim_ban {
namespace {

// Long enough to ride out a reader checkpointing or a backup; short enough
// that a locked database costs the event loop little before the batch is
// retried.
constexpr int busy_timeout_ms = 200;

std::optional<BanKey> parse_key(const std::string& text) {
    return IpPrefix::parse(text);
}

// Before anything is written: a damaged database must be refused as it was
// found, and here, at start-up, rather than by a read or a commit of the
// running daemon, which could only retry. quick_check reads every page
// (about 0.2 s per 100 MB when cached) but skips the index-to-table
// comparisons of integrity_check.
void check_pages(SqliteDatabase& database) {
    SqliteStatement check(database.handle(), "PRAGMA quick_check(1)");
    std::string verdict = check.step() ? check.column_text(0) : "no verdict";
    if (verdict == "ok")
        return;
    std::replace(verdict.begin(), verdict.end(), '\n', ' '); // a start-up error is one line
    throw SqliteError("damaged: " + verdict, SQLITE_CORRUPT);
}

void checkpoint_on_close(SqliteDatabase& database, bool enabled) {
    sqlite3_db_config(database.handle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, enabled ? 0 : 1,
                      nullptr);
}

} // namespace

struct SqliteStore::Statements {
    explicit Statements(sqlite3* db)
        : begin(db, "BEGIN IMMEDIATE")
        , commit(db, "COMMIT")
        , rollback(db, "ROLLBACK")
        , upsert_file(
              db,
              "INSERT INTO files(path, dev, inode, head_hash, offset, rotated_dev, rotated_inode, "
              "rotated_head_hash, rotated_offset, cursor) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
              "?9, ?10) "
              "ON CONFLICT(path) DO UPDATE SET dev = ?2, inode = ?3, head_hash = ?4, offset = ?5, "
              "rotated_dev = ?6, rotated_inode = ?7, rotated_head_hash = ?8, rotated_offset = ?9, "
              "cursor = ?10")
        , insert_hits(db, "INSERT INTO hit_batches(jail, first_ts, last_ts, count, data) "
                          "VALUES(?1, ?2, ?3, ?4, ?5)")
        , add_key_hits(db, "INSERT INTO key_hits(key, jail, hits) VALUES(?1, ?2, ?3) "
                           "ON CONFLICT(key, jail) DO UPDATE SET hits = hits + ?3")
        , set_counted_through(db, "UPDATE meta SET value = ?1 WHERE name = 'counted_through'")
        , counted_through(db, "SELECT value FROM meta WHERE name = 'counted_through'")
        , uncounted(db, "SELECT id, jail, data FROM hit_batches WHERE id > ?1 ORDER BY id")
        , insert_ban(db, "INSERT INTO bans(jail, key, start, expires, reason, origin) VALUES(?1, "
                         "?2, ?3, ?4, ?5, ?6)")
        , lift_ban(db, "UPDATE bans SET lifted = ?3 WHERE key = ?1 AND (?2 = '' OR jail = ?2) AND "
                       "lifted IS NULL "
                       "AND expires > ?3")
        , files(db, "SELECT path, dev, inode, head_hash, offset, rotated_dev, rotated_inode, "
                    "rotated_head_hash, rotated_offset, cursor FROM files ORDER BY path")
        , active(db, "SELECT jail, key, start, expires, reason, origin FROM bans "
                     "WHERE lifted IS NULL AND expires > ?1 ORDER BY start, id")
        , key_hits(db, "SELECT hits FROM key_hits WHERE key = ?1 AND jail = ?2")
        , key_bans(db, "SELECT count(*), coalesce(max(CASE WHEN lifted IS NULL THEN expires END), "
                       "0) FROM bans "
                       "WHERE key = ?1 AND jail = ?2")
        , jail_keys(db, "SELECT key, hits FROM key_hits WHERE jail = ?1")
        , jail_bans(db, "SELECT key, count(*), coalesce(max(CASE WHEN lifted IS NULL THEN expires "
                        "END), 0) FROM bans WHERE jail = ?1 GROUP BY key")
        , jail_recent(db, "SELECT data FROM hit_batches WHERE jail = ?1 AND last_ts > (SELECT "
                          "max(last_ts) FROM hit_batches WHERE jail = ?1) - ?2 ORDER BY id")
        , jail_batches_newest_first(db,
                                    "SELECT data FROM hit_batches WHERE jail = ?1 ORDER BY id DESC")
        , key_ban_rows(db, "SELECT jail, key, start, expires, reason, origin, coalesce(lifted, 0) "
                           "FROM bans WHERE key = ?1 ORDER BY start, id")
        , purge(db, "DELETE FROM hit_batches WHERE last_ts < ?1 AND "
                    "id <= (SELECT value FROM meta WHERE name = 'counted_through')")
        , upsert_trust(db, "INSERT INTO trust(jail, key, account, last_seen) VALUES(?1, ?2, ?3, "
                           "?4) ON CONFLICT(jail, key, account) DO UPDATE SET last_seen = "
                           "max(last_seen, ?4)")
        , drop_trust(db, "DELETE FROM trust WHERE key = ?2 AND (?1 = '' OR jail = ?1)")
        , insert_mistake(db, "INSERT INTO trust_mistakes(jail, key, time) VALUES(?1, ?2, ?3)")
        , drop_mistakes(db, "DELETE FROM trust_mistakes WHERE key = ?2 AND (?1 = '' OR jail = ?1)")
        , jail_logins(db, "SELECT key, account, last_seen FROM trust WHERE jail = ?1 AND "
                          "last_seen > ?2 ORDER BY key, account")
        , jail_mistakes(db, "SELECT key, time FROM trust_mistakes WHERE jail = ?1 AND time > ?2 "
                            "ORDER BY rowid")
        , purge_mistakes(db, "DELETE FROM trust_mistakes WHERE time < ?1")
        , upsert_session(db, "INSERT INTO open_sessions(jail, session, counted, time) "
                             "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(jail, session) DO UPDATE SET "
                             "counted = ?3, time = ?4")
        , end_session(db, "DELETE FROM open_sessions WHERE jail = ?1 AND session = ?2")
        , jail_sessions(db, "SELECT session, counted, time FROM open_sessions WHERE jail = ?1 "
                            "ORDER BY time")
        , purge_sessions(db, "DELETE FROM open_sessions WHERE time < ?1") {}

    SqliteStatement begin, commit, rollback, upsert_file, insert_hits, add_key_hits,
        set_counted_through, counted_through, uncounted, insert_ban, lift_ban, files, active,
        key_hits, key_bans, jail_keys, jail_bans, jail_recent, jail_batches_newest_first,
        key_ban_rows, purge, upsert_trust, drop_trust, insert_mistake, drop_mistakes, jail_logins,
        jail_mistakes, purge_mistakes, upsert_session, end_session, jail_sessions, purge_sessions;
};

SqliteStore::SqliteStore(const std::filesystem::path& path, Writer writer) try
    : database_(path) {
    sqlite3_busy_timeout(database_.handle(), busy_timeout_ms);
    // Closing the last connection copies the WAL into the file: not while
    // the file may still be refused, which must leave it as it was.
    checkpoint_on_close(database_, false);
    check_pages(database_);
    check_schema_version(database_);
    // Exim's lookups read while the daemon writes: WAL lets readers and the
    // writer proceed without blocking each other.
    database_.execute("PRAGMA journal_mode=WAL");
    database_.execute("PRAGMA synchronous=NORMAL");
    migrate(database_);
    statements_ = std::make_unique<Statements>(database_.handle());
    checkpointer_ = std::make_unique<WalCheckpointer>(path);
    // Replaces SQLite's automatic checkpoint, which would sync the disk
    // inside the commit that crosses the threshold.
    sqlite3_wal_hook(
        database_.handle(),
        [](void* checkpointer, sqlite3*, const char*, int pages) {
            if (pages >= wal_checkpoint_pages)
                static_cast<WalCheckpointer*>(checkpointer)->request();
            return SQLITE_OK;
        },
        checkpointer_.get());
    if (writer == Writer::daemon)
        fold_uncounted_batches();
    checkpoint_on_close(database_, true);
} catch (const SqliteError& error) {
    const int primary = error.code() & 0xff;
    const bool damaged = primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT;
    std::string advice;
    if (damaged)
        advice = "it is not an exim-ban database or it is damaged; move it aside (the file is left "
                 "as it is)";
    else if (primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN || primary == SQLITE_PERM)
        advice = "check that the file and its directory exist and are writable by exim-band";
    else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
        advice = "another process holds it locked; is a second exim-band running?";
    else if (primary == SQLITE_FULL)
        advice = "the disk is full";
    throw StoreOpenError("database " + path.string() + ": " + error.what() +
                             (advice.empty() ? "" : "; " + advice),
                         damaged);
} catch (const std::runtime_error& error) {
    throw StoreOpenError(std::string("database: ") + error.what());
}

SqliteStore::~SqliteStore() {
    // Best effort: what is not written now is folded in again at the next open.
    checkpoint_counts();
}

// Batches committed after the last count checkpoint (a crash between the
// two) are counted now, in one transaction with the new checkpoint.
void SqliteStore::fold_uncounted_batches() {
    Statements& s = *statements_;
    s.counted_through.step();
    const std::int64_t through = s.counted_through.column_int(0);
    s.counted_through.reset();
    last_batch_id_ = through;
    Counts counts;
    s.uncounted.bind(1, through);
    while (s.uncounted.step()) {
        last_batch_id_ = s.uncounted.column_int(0);
        const std::string jail = s.uncounted.column_text(1);
        const std::string data = s.uncounted.column_text(2);
        for (std::size_t i = 0; auto record = read_hit_record(data, i); ++i)
            ++counts[jail][record->key];
    }
    s.uncounted.reset();
    if (last_batch_id_ == through)
        return;
    // At start-up a failure is fatal: say so rather than run with counts
    // that would then be folded in twice.
    if (auto failure = in_transaction([&] { write_counts(counts, last_batch_id_); }))
        throw SqliteError("cannot count the batches of an interrupted run: " + failure->message, 0);
}

void SqliteStore::add_counts(const Counts& counts) {
    Statements& s = *statements_;
    // In key_hits' own order (its B-tree is on key, jail): a flood's new keys
    // upserted in hash order land each on another page, 2.4 times slower.
    std::vector<std::pair<std::string, std::int64_t>> rows;
    for (const auto& [jail, keys] : counts) {
        rows.clear();
        rows.reserve(keys.size());
        for (const auto& [key, hits] : keys)
            rows.emplace_back(key.to_string(), hits);
        std::sort(rows.begin(), rows.end());
        for (const auto& [key, hits] : rows)
            s.add_key_hits.bind(1, key).bind(2, jail).bind(3, hits).run();
    }
}

void SqliteStore::write_counts(const Counts& counts, std::int64_t counted_through) {
    add_counts(counts);
    statements_->set_counted_through.bind(1, counted_through).run();
}

std::int64_t SqliteStore::write(const Batch& batch) {
    Statements& s = *statements_;
    for (const auto& file : batch.files) {
        s.upsert_file.bind(1, file.path)
            .bind(2, static_cast<std::int64_t>(file.device))
            .bind(3, static_cast<std::int64_t>(file.inode))
            .bind(4, file.head_hash)
            .bind(5, static_cast<std::int64_t>(file.offset))
            .bind(10, file.cursor);
        if (file.rotated)
            s.upsert_file.bind(6, static_cast<std::int64_t>(file.rotated->device))
                .bind(7, static_cast<std::int64_t>(file.rotated->inode))
                .bind(8, file.rotated->head_hash)
                .bind(9, static_cast<std::int64_t>(file.rotated->offset));
        else
            s.upsert_file.bind_null(6).bind_null(7).bind_null(8).bind_null(9);
        s.upsert_file.run();
    }
    // One row per jail: the batch's hits packed as records.
    std::map<std::string, std::string> data;
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> span;
    for (const auto& hit : batch.hits) {
        append_hit_record(data[hit.jail], HitRecord{hit.key, hit.time, hit.pattern});
        auto [range, fresh] = span.try_emplace(hit.jail, hit.time, hit.time);
        range->second.first = std::min(range->second.first, hit.time);
        range->second.second = std::max(range->second.second, hit.time);
    }
    std::int64_t last_id = last_batch_id_;
    for (const auto& [jail, records] : data) {
        s.insert_hits.bind(1, jail)
            .bind(2, span[jail].first)
            .bind(3, span[jail].second)
            .bind(4, static_cast<std::int64_t>(records.size() / hit_record_size))
            .bind_blob(5, records)
            .run();
        last_id = sqlite3_last_insert_rowid(database_.handle());
    }
    for (const auto& unban : batch.unbans)
        s.lift_ban.bind(1, unban.key.to_string()).bind(2, unban.jail).bind(3, unban.at).run();
    for (const auto& ban : batch.bans) {
        s.insert_ban.bind(1, ban.jail)
            .bind(2, ban.key.to_string())
            .bind(3, ban.start)
            .bind(4, ban.expires)
            .bind(5, ban.reason)
            .bind(6, ban.origin)
            .run();
    }
    write_trust(batch);
    return last_id;
}

namespace {

// A ban of the batch drops what its key earned or excused in its jail up to
// the ban's start: the memory did so when it judged the ban.
bool dropped_by_ban(const Batch& batch, const std::string& jail, const BanKey& key,
                    std::int64_t time) {
    return std::any_of(batch.bans.begin(), batch.bans.end(), [&](const StoredBan& ban) {
        return ban.jail == jail && ban.key == key && time <= ban.start;
    });
}

} // namespace

void SqliteStore::write_trust(const Batch& batch) {
    Statements& s = *statements_;
    auto drop = [&](const std::string& jail, const BanKey& key) {
        const std::string text = key.to_string();
        s.drop_trust.bind(1, jail).bind(2, text).run();
        s.drop_mistakes.bind(1, jail).bind(2, text).run();
    };
    for (const auto& forgotten : batch.forgotten)
        drop(forgotten.jail, forgotten.key);
    for (const auto& ban : batch.bans)
        drop(ban.jail, ban.key);
    for (const auto& success : batch.successes) {
        if (!dropped_by_ban(batch, success.jail, success.key, success.time))
            s.upsert_trust.bind(1, success.jail)
                .bind(2, success.key.to_string())
                .bind(3, success.account)
                .bind(4, success.time)
                .run();
    }
    for (const auto& mistake : batch.mistakes) {
        if (!dropped_by_ban(batch, mistake.jail, mistake.key, mistake.time))
            s.insert_mistake.bind(1, mistake.jail)
                .bind(2, mistake.key.to_string())
                .bind(3, mistake.time)
                .run();
    }
    for (const auto& session : batch.sessions) {
        if (session.counted == 0)
            s.end_session.bind(1, session.jail).bind(2, session.session).run();
        else
            s.upsert_session.bind(1, session.jail)
                .bind(2, session.session)
                .bind(3, static_cast<std::int64_t>(session.counted))
                .bind(4, session.time)
                .run();
    }
}

std::optional<StoreFailure> SqliteStore::in_transaction(const std::function<void()>& work) {
    Statements& s = *statements_;
    try {
        s.begin.run();
    } catch (const SqliteError& error) {
        return StoreFailure{error.what(), true};
    }
    try {
        work();
        s.commit.run();
        return std::nullopt;
    } catch (const SqliteError& error) {
        // Nothing of the work stays; the caller keeps what it wanted written.
        try {
            s.rollback.run();
        } catch (const SqliteError&) {
            // SQLite may have rolled back by itself (a full disk does that).
        }
        return store_failure(error);
    }
}

// Adds the batch's hits to `counts`, one lookup per hit; consecutive hits
// of one jail share the jail's map.
void SqliteStore::count_hits(const Batch& batch, Counts& counts, std::size_t* new_keys) {
    const std::string* jail = nullptr;
    std::unordered_map<BanKey, std::int64_t, IpPrefixHash>* keys = nullptr;
    for (const auto& hit : batch.hits) {
        if (jail == nullptr || *jail != hit.jail) {
            jail = &hit.jail;
            keys = &counts[hit.jail];
        }
        auto [slot, fresh] = keys->try_emplace(hit.key, 0);
        ++slot->second;
        if (new_keys != nullptr && fresh)
            ++*new_keys;
    }
}

std::optional<StoreFailure> SqliteStore::commit(const Batch& batch) {
    std::int64_t last_id = 0;
    // The batch's hit count bounds its new keys: deciding on it spares a
    // lookup per hit; at worst the checkpoint comes a little early.
    const bool checkpoint = pending_keys_ + batch.hits.size() >= checkpoint_keys;
    auto failure = in_transaction([&] {
        last_id = write(batch);
        if (checkpoint) {
            Counts counts;
            count_hits(batch, counts, nullptr);
            add_counts(pending_);
            add_counts(counts);
            statements_->set_counted_through.bind(1, last_id).run();
        }
    });
    if (failure)
        return failure;
    // Memory changes only once the batch has committed.
    last_batch_id_ = last_id;
    if (checkpoint) {
        pending_.clear();
        pending_keys_ = 0;
    } else {
        count_hits(batch, pending_, &pending_keys_);
    }
    return std::nullopt;
}

std::optional<StoreFailure> SqliteStore::checkpoint_counts() {
    if (pending_.empty())
        return std::nullopt;
    auto failure = in_transaction([&] { write_counts(pending_, last_batch_id_); });
    if (!failure) {
        pending_.clear();
        pending_keys_ = 0;
    }
    return failure;
}

StoreRead<std::vector<FileOffset>> SqliteStore::file_offsets() {
    return read_or_failure([&] {
        std::vector<FileOffset> files;
        SqliteStatement& query = statements_->files;
        while (query.step()) {
            FileOffset& file = files.emplace_back(
                FileOffset{query.column_text(0), static_cast<std::uint64_t>(query.column_int(1)),
                           static_cast<std::uint64_t>(query.column_int(2)), query.column_text(3),
                           static_cast<std::uint64_t>(query.column_int(4)), std::nullopt,
                           query.column_text(9)});
            if (!query.column_is_null(5))
                file.rotated = RotatedFilePosition{static_cast<std::uint64_t>(query.column_int(5)),
                                                   static_cast<std::uint64_t>(query.column_int(6)),
                                                   query.column_text(7),
                                                   static_cast<std::uint64_t>(query.column_int(8))};
        }
        query.reset();
        return files;
    });
}

StoreRead<std::vector<StoredBan>> SqliteStore::active_bans(std::int64_t now) {
    return read_or_failure([&] {
        std::vector<StoredBan> bans;
        SqliteStatement& query = statements_->active;
        query.bind(1, now);
        while (query.step()) {
            auto key = parse_key(query.column_text(1));
            if (!key)
                continue; // a row no exim-ban wrote: not ours to act on
            bans.push_back({query.column_text(0), *key, query.column_int(2), query.column_int(3),
                            query.column_text(4), query.column_text(5)});
        }
        query.reset();
        return bans;
    });
}

StoreRead<KeyHistory> SqliteStore::history(const std::string& jail, const BanKey& key) {
    return read_or_failure([&] {
        KeyHistory history;
        const std::string text = key.to_string();
        SqliteStatement& hits = statements_->key_hits;
        hits.bind(1, text).bind(2, jail);
        if (hits.step())
            history.lifetime_hits = static_cast<std::uint64_t>(hits.column_int(0));
        hits.reset();
        if (auto keys = pending_.find(jail); keys != pending_.end()) {
            if (auto pending = keys->second.find(key); pending != keys->second.end())
                history.lifetime_hits += static_cast<std::uint64_t>(pending->second);
        }
        SqliteStatement& bans = statements_->key_bans;
        bans.bind(1, text).bind(2, jail);
        if (bans.step()) {
            history.bans = static_cast<unsigned>(bans.column_int(0));
            history.banned_until = bans.column_int(1);
        }
        bans.reset();
        return history;
    });
}

StoreRead<JailMemory> SqliteStore::jail_memory(const std::string& jail,
                                               std::chrono::seconds findtime) {
    return read_or_failure([&] {
        Statements& s = *statements_;
        std::unordered_map<BanKey, KeyHistory, IpPrefixHash> histories;
        s.jail_keys.bind(1, jail);
        while (s.jail_keys.step()) {
            if (auto key = parse_key(s.jail_keys.column_text(0)))
                histories[*key].lifetime_hits =
                    static_cast<std::uint64_t>(s.jail_keys.column_int(1));
        }
        s.jail_keys.reset();
        if (auto keys = pending_.find(jail); keys != pending_.end()) {
            for (const auto& [key, hits] : keys->second)
                histories[key].lifetime_hits += static_cast<std::uint64_t>(hits);
        }
        s.jail_bans.bind(1, jail);
        while (s.jail_bans.step()) {
            if (auto key = parse_key(s.jail_bans.column_text(0))) {
                KeyHistory& history = histories[*key];
                history.bans = static_cast<unsigned>(s.jail_bans.column_int(1));
                history.banned_until = s.jail_bans.column_int(2);
            }
        }
        s.jail_bans.reset();

        JailMemory memory;
        memory.keys.assign(histories.begin(), histories.end());
        s.jail_recent.bind(1, jail).bind(2, static_cast<std::int64_t>(findtime.count()));
        while (s.jail_recent.step()) {
            const std::string data = s.jail_recent.column_text(0);
            for (std::size_t i = 0; auto record = read_hit_record(data, i); ++i)
                memory.recent_hits.push_back({jail, record->key, record->time, record->pattern});
        }
        s.jail_recent.reset();
        return memory;
    });
}

StoreRead<JailTrust> SqliteStore::jail_trust(const std::string& jail, std::int64_t logins_since,
                                             std::int64_t mistakes_since) {
    return read_or_failure([&] {
        Statements& s = *statements_;
        JailTrust trust;
        s.jail_logins.bind(1, jail).bind(2, logins_since);
        while (s.jail_logins.step()) {
            if (auto key = parse_key(s.jail_logins.column_text(0)))
                trust.logins.push_back(
                    {*key, s.jail_logins.column_text(1), s.jail_logins.column_int(2)});
        }
        s.jail_logins.reset();
        s.jail_mistakes.bind(1, jail).bind(2, mistakes_since);
        while (s.jail_mistakes.step()) {
            if (auto key = parse_key(s.jail_mistakes.column_text(0)))
                trust.mistakes.push_back({jail, *key, s.jail_mistakes.column_int(1)});
        }
        s.jail_mistakes.reset();
        return trust;
    });
}

StoreRead<std::vector<StoredSession>> SqliteStore::open_sessions(const std::string& jail) {
    return read_or_failure([&] {
        SqliteStatement& rows = statements_->jail_sessions;
        std::vector<StoredSession> sessions;
        rows.bind(1, jail);
        while (rows.step())
            sessions.push_back({jail, rows.column_text(0),
                                static_cast<std::uint32_t>(rows.column_int(1)),
                                rows.column_int(2)});
        rows.reset();
        return sessions;
    });
}

StoreRead<std::vector<StoredHit>> SqliteStore::hits_of(const std::string& jail, const BanKey& key,
                                                       std::size_t limit) {
    return read_or_failure([&] {
        std::vector<StoredHit> hits;
        SqliteStatement& batches = statements_->jail_batches_newest_first;
        batches.bind(1, jail);
        while (hits.size() < limit && batches.step()) {
            const std::string data = batches.column_text(0);
            const std::size_t records = data.size() / hit_record_size;
            for (std::size_t i = records; i-- > 0 && hits.size() < limit;) {
                if (auto record = read_hit_record(data, i); record && record->key == key)
                    hits.push_back({jail, key, record->time, record->pattern});
            }
        }
        batches.reset();
        return hits;
    });
}

StoreRead<std::vector<StoredBan>> SqliteStore::bans_of(const BanKey& key) {
    return read_or_failure([&] {
        std::vector<StoredBan> bans;
        SqliteStatement& rows = statements_->key_ban_rows;
        rows.bind(1, key.to_string());
        while (rows.step()) {
            bans.push_back({rows.column_text(0), key, rows.column_int(2), rows.column_int(3),
                            rows.column_text(4), rows.column_text(5), rows.column_int(6)});
        }
        rows.reset();
        return bans;
    });
}

std::optional<StoreFailure> SqliteStore::purge_hits(std::int64_t before) {
    // Only batches already folded into the lifetime counts may go.
    if (auto failure = checkpoint_counts())
        return failure;
    try {
        statements_->purge.bind(1, before).run();
        statements_->purge_mistakes.bind(1, before).run();
        statements_->purge_sessions.bind(1, before).run();
        return std::nullopt;
    } catch (const SqliteError& error) {
        return store_failure(error);
    }
}

} // namespace exim_ban
