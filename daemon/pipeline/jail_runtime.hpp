// A jail as the daemon runs it: a matcher per source (each source's filter)
// with a count per pattern, one judge (tracker and ignore list) for the hits
// of all its sources, and where its patterns are written, for the ban log
// lines. The patterns are numbered across the sources, in source order. Callers say what happened
// (a line, a ban made or lifted elsewhere) and ask what the jail's policy is; the tracker stays
// inside.
#pragma once

#include "config/config.hpp"
#include "core/jail_judge.hpp"
#include "core/line_matcher.hpp"
#include "core/log_format.hpp"
#include "core/session_attempts.hpp"
#include "filter/loaded_filter.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exim_ban {

// How many keys and hits restore() gave back to the tracker.
struct RestoredMemory {
    std::size_t keys = 0;
    std::size_t hits = 0;
};

class JailRuntime {
  public:
    // `filters[s]`: the loaded filter of `config.sources[s]`.
    JailRuntime(const JailConfig& config, const std::vector<LoadedFilter>& filters);

    const std::string name;

    // Whose lines source `source`'s filter reads: the reader its logs'
    // lines go through.
    LogFormat log_format(std::size_t source) const { return sources_[source].log_format; }
    // Matches a message of source `source` (an index into the config's
    // sources); a hit is counted against its pattern, whose number is the
    // jail's.
    LineMatch match(std::size_t source, std::string_view message);
    // The failed attempts a hit of source `source` adds, each to be judged
    // (a summary of several counts each, an attempt told on two lines
    // once): see SessionAttempts.
    std::uint32_t attempts_of(std::size_t source, const LineMatch& hit) {
        return sources_[source].sessions.count(hit.session, hit.attempts);
    }
    // What the store must keep of a hit's session after attempts_of(): its
    // attempts counted so far, 0 once it ended.
    std::uint32_t session_counted(std::size_t source, std::string_view session) const {
        return sources_[source].sessions.counted(session);
    }
    // Matches a message of source `source` against its filter's
    // successregexes: a hit is a good login of match.account from
    // match.host. Kind::none when the filter has none.
    LineMatch match_success(std::size_t source, std::string_view message) const;
    // The judge's verdict on a hit of `host` at `time`, the log's time
    // being `now` (seconds), for `account` (empty: the line names none):
    // see JailJudge::hit.
    JailJudge::Outcome judge(const IpAddress& host, std::int64_t time, std::int64_t now,
                             std::string_view account = {});
    // A good login of `account` from `host` at `time`: the key it trusts,
    // or nullopt when it earns no trust (trust off, no account). Ignored
    // hosts earn it too: trust_file is an access list, not a ban list.
    std::optional<BanKey> record_login(const IpAddress& host, std::string_view account,
                                       std::int64_t time);
    // The key's trust in every account is dropped (`trust forget`).
    std::size_t forget_trust(const BanKey& key) { return judge_.trust().forget(key); }
    // The (key, account) pairs trusted at `now`.
    std::vector<TrustEntry> trusted(std::int64_t now) const { return judge_.trust().trusted(now); }
    // A ban made outside the log (the admin's, a knock renewal) or restored,
    // that the tracker must know until `until` (seconds). It drops the
    // key's trust, as a ban from the log does.
    void note_ban(const BanKey& key, std::int64_t until);
    // The ban of `key` is lifted: its next hits count afresh.
    void lift_ban(const BanKey& key);
    // The ban renewing a banned key's from `now` (bantime.knock_extend);
    // note_ban() it once committed.
    BanDecision renewal(const BanKey& key, std::int64_t now) const;

    const JailPolicy& policy() const { return judge_.tracker().policy(); }
    // The key a ban of `address` covers (a /ipv6_prefix for IPv6).
    BanKey key_of(const IpAddress& address) const;
    // Loopback, or on the jail's ignore list: never banned.
    bool ignores(const IpAddress& address) const;
    // A ban of `key` would cover an ignored address.
    bool would_cover_ignored(const BanKey& key) const;
    std::size_t tracked_keys() const { return judge_.tracker().tracked_keys(); }
    std::uint64_t dropped_keys() const { return judge_.tracker().dropped_keys(); }

    // Where each failregex is written ("file:line"), and the lines each has
    // matched since start-up.
    const std::vector<std::string>& patterns() const { return patterns_; }
    const std::vector<std::uint64_t>& pattern_hits() const { return pattern_hits_; }
    // After a reload: the counts go on from `earlier`'s while the patterns
    // stay the same.
    void carry_pattern_hits(const JailRuntime& earlier);

    // Gives the tracker back what the store remembers: each key's history,
    // then the hits of its findtime window replayed in commit order; and the
    // sources their Dovecot sessions still open. Returns how many keys and
    // hits were restored, or the store's failure to read them (the tracker
    // is then left as it was).
    StoreRead<RestoredMemory> restore(Store& store);
    // Gives the trust book back the logins still trusted at `now` and the
    // mistakes excused within findtime. Returns how many logins, or the
    // store's failure.
    StoreRead<std::size_t> restore_trust(Store& store, std::int64_t now);

  private:
    std::vector<std::string> patterns_;
    // A source's filter as the jail runs it.
    struct Source {
        LogFormat log_format;
        LineMatcher matcher;
        std::optional<LineMatcher> success;
        std::size_t first_pattern = 0; // its first pattern's number in the jail
        SessionAttempts sessions;
    };
    std::vector<Source> sources_;
    JailJudge judge_;
    std::vector<std::uint64_t> pattern_hits_;
};

} // namespace exim_ban
