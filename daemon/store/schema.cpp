#include "store/schema.hpp"

#include <array>
#include <string>

namespace exim_ban {
namespace {

// migrations[N] takes version N to N+1. Never edit one that has shipped: add
// the next.
constexpr std::array<const char*, 5> migrations{{
    R"sql(
CREATE TABLE files(
    path      TEXT PRIMARY KEY,
    dev       INTEGER NOT NULL,
    inode     INTEGER NOT NULL,
    head_hash TEXT NOT NULL,
    offset    INTEGER NOT NULL
);
-- Hits, one row per jail and batch: `data` packs the batch's hits as
-- fixed 32-byte records (see hit_record.hpp). One insert per batch instead
-- of one per hit is what lets the store keep up with a flood.
CREATE TABLE hit_batches(
    id       INTEGER PRIMARY KEY,
    jail     TEXT NOT NULL,
    first_ts INTEGER NOT NULL,
    last_ts  INTEGER NOT NULL,
    count    INTEGER NOT NULL,
    data     BLOB NOT NULL
);
CREATE INDEX hit_batches_by_time ON hit_batches(last_ts);
CREATE TABLE bans(
    id      INTEGER PRIMARY KEY,
    jail    TEXT NOT NULL,
    key     TEXT NOT NULL,
    start   INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    lifted  INTEGER,
    reason  TEXT NOT NULL,
    origin  TEXT NOT NULL
);
CREATE INDEX bans_by_key ON bans(key, jail);
CREATE INDEX bans_active ON bans(expires) WHERE lifted IS NULL;
-- Lifetime hits per key and jail: they outlive the purge of old hits. They
-- are folded in from hit_batches up to meta's counted_through.
CREATE TABLE key_hits(
    key  TEXT NOT NULL,
    jail TEXT NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY(key, jail)
) WITHOUT ROWID;
-- What Exim's connect ACL reads:
--   select sum(count) from blacklist where ip = '$sender_host_address'
-- IPv6 keys are their prefix, e.g. 2001:db8:1:2::/64.
CREATE TABLE meta(
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO meta(name, value) VALUES('counted_through', 0);
CREATE VIEW blacklist(ip, count) AS SELECT key, sum(hits) FROM key_hits GROUP BY key;
)sql",
    // The file a rotation renamed away from the path, while it is followed
    // for late lines: NULL when there is none.
    R"sql(
ALTER TABLE files ADD COLUMN rotated_dev INTEGER;
ALTER TABLE files ADD COLUMN rotated_inode INTEGER;
ALTER TABLE files ADD COLUMN rotated_head_hash TEXT;
ALTER TABLE files ADD COLUMN rotated_offset INTEGER;
)sql",
    // The systemd journal's position is a cursor, not a file and an offset.
    R"sql(
ALTER TABLE files ADD COLUMN cursor TEXT NOT NULL DEFAULT '';
)sql",
    // Trust from good logins: each (jail, key, account) with its latest
    // login, and the known users' mistakes excused within findtime (not
    // hits, but counted toward trust_maxretry across a restart).
    R"sql(
CREATE TABLE trust(
    jail      TEXT NOT NULL,
    key       TEXT NOT NULL,
    account   TEXT NOT NULL,
    last_seen INTEGER NOT NULL,
    PRIMARY KEY(jail, key, account)
) WITHOUT ROWID;
CREATE TABLE trust_mistakes(
    jail TEXT NOT NULL,
    key  TEXT NOT NULL,
    time INTEGER NOT NULL
);
CREATE INDEX trust_mistakes_by_time ON trust_mistakes(time);
)sql",
    // Dovecot's sessions whose failed attempts were counted from their auth
    // process's lines and whose summary has not come yet: the summary counts
    // only the rest, also after a restart (core/session_attempts.hpp).
    R"sql(
CREATE TABLE open_sessions(
    jail    TEXT NOT NULL,
    session TEXT NOT NULL,
    counted INTEGER NOT NULL,
    time    INTEGER NOT NULL,
    PRIMARY KEY(jail, session)
) WITHOUT ROWID;
CREATE INDEX open_sessions_by_time ON open_sessions(time);
)sql",
}};

} // namespace

std::int64_t check_schema_version(SqliteDatabase& database) {
    const auto version = database.query_int("PRAGMA user_version");
    if (version > current_schema_version)
        throw std::runtime_error(
            database.path().string() + " has schema version " + std::to_string(version) +
            ", newer than this exim-ban understands (" + std::to_string(current_schema_version) +
            "); use the exim-ban that wrote it, or move the file aside");
    return version;
}

void migrate(SqliteDatabase& database) {
    const auto version = check_schema_version(database);
    for (auto step = version; step < current_schema_version; ++step) {
        database.execute("BEGIN IMMEDIATE");
        try {
            database.execute(migrations[static_cast<std::size_t>(step)]);
            database.execute("PRAGMA user_version = " + std::to_string(step + 1));
            database.execute("COMMIT");
        } catch (...) {
            database.execute("ROLLBACK");
            throw;
        }
    }
}

} // namespace exim_ban
