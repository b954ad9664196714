// Trust earned by logging in, for one jail: which accounts have logged in
// from which key and when, and the known-user-mistake rule. A failure for
// account U from a key that logged in as U within trust_time is a mistake
// of a known user (a phone with a stale password behind the office NAT):
// it is excused until the key has made trust_maxretry of them within
// findtime, and counts as a hit beyond, so that one stolen session cannot
// guess forever. Failures for other accounts are never excused. Pure: the
// caller passes each event's time (log time, seconds).
//
// Memory is capped as the HitTracker's is: at `max_entries` (key, account)
// pairs, the eighth of the keys whose last login is oldest is forgotten at
// once, and counted.
#pragma once

#include "core/ban_key.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace exim_ban {

struct TrustRules {
    std::chrono::seconds trust_time{30 * 86400}; // 0: no trust is earned
    unsigned trust_maxretry = 20;                // excused mistakes within findtime
    std::chrono::seconds findtime{600};
};

struct TrustEntry {
    BanKey key;
    std::string account;
    std::int64_t last_seen = 0; // the latest good login, seconds
};

class TrustBook {
  public:
    TrustBook(TrustRules rules, std::size_t max_entries);

    bool enabled() const { return rules_.trust_time.count() > 0; }

    // A good login of `account` from `key` at `time`. Ignored when trust is
    // off or the account is empty; a login older than the one known changes
    // nothing.
    void record_login(const BanKey& key, std::string_view account, std::int64_t time);
    // A failure for `account` from `key` at `time`: true when it is an
    // excused known-user mistake (it must then not count as a hit); false
    // when it counts as a hit, including a mistake past trust_maxretry.
    bool excuse(const BanKey& key, std::string_view account, std::int64_t time);
    // Puts a stored excused mistake back into the key's findtime window, as
    // excuse() counted it, after the logins were restored.
    void replay_mistake(const BanKey& key, std::int64_t time);
    // The key loses its trust, every account (a ban, or the admin's
    // forget). Returns how many accounts it had.
    std::size_t forget(const BanKey& key);

    // Whether `account` logged in from `key` within trust_time before `now`.
    bool trusts(const BanKey& key, std::string_view account, std::int64_t now) const;
    // The (key, account) pairs trusted at `now`, sorted by key then account.
    std::vector<TrustEntry> trusted(std::int64_t now) const;

    std::size_t entries() const { return entries_; }
    std::uint64_t dropped_entries() const { return dropped_; }
    const TrustRules& rules() const { return rules_; }

  private:
    struct Login {
        std::string account;
        std::int64_t last_seen;
    };
    struct KeyTrust {
        std::vector<Login> logins;         // few: the accounts used from one address
        std::deque<std::int64_t> mistakes; // excused ones within findtime, oldest first
        std::int64_t newest_login = 0;
    };
    bool is_trusted(const Login& login, std::int64_t now) const;
    void forget_oldest();

    TrustRules rules_;
    std::size_t max_entries_;
    std::unordered_map<BanKey, KeyTrust, IpPrefixHash> keys_;
    std::size_t entries_ = 0;
    std::uint64_t dropped_ = 0;
};

} // namespace exim_ban
