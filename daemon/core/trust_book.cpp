#include "core/trust_book.hpp"

#include <algorithm>

namespace exim_ban {

TrustBook::TrustBook(TrustRules rules, std::size_t max_entries)
    : rules_(rules)
    , max_entries_(std::max<std::size_t>(max_entries, 1)) {}

bool TrustBook::is_trusted(const Login& login, std::int64_t now) const {
    return enabled() && now < login.last_seen + rules_.trust_time.count();
}

void TrustBook::record_login(const BanKey& key, std::string_view account, std::int64_t time) {
    if (!enabled() || account.empty())
        return;
    if (auto found = keys_.find(key); found != keys_.end()) {
        KeyTrust& trust = found->second;
        trust.newest_login = std::max(trust.newest_login, time);
        for (Login& login : trust.logins) {
            if (login.account == account) {
                login.last_seen = std::max(login.last_seen, time);
                return;
            }
        }
    }
    if (entries_ >= max_entries_)
        forget_oldest();
    KeyTrust& trust = keys_[key];
    trust.newest_login = std::max(trust.newest_login, time);
    trust.logins.push_back({std::string(account), time});
    ++entries_;
}

bool TrustBook::excuse(const BanKey& key, std::string_view account, std::int64_t time) {
    if (account.empty() || !trusts(key, account, time))
        return false;
    std::deque<std::int64_t>& mistakes = keys_.find(key)->second.mistakes;
    while (!mistakes.empty() && mistakes.front() <= time - rules_.findtime.count())
        mistakes.pop_front();
    if (mistakes.size() >= rules_.trust_maxretry)
        return false;
    mistakes.push_back(time);
    return true;
}

void TrustBook::replay_mistake(const BanKey& key, std::int64_t time) {
    auto found = keys_.find(key);
    if (found == keys_.end())
        return;
    std::deque<std::int64_t>& mistakes = found->second.mistakes;
    mistakes.push_back(time);
    if (mistakes.size() > rules_.trust_maxretry)
        mistakes.pop_front();
}

std::size_t TrustBook::forget(const BanKey& key) {
    auto found = keys_.find(key);
    if (found == keys_.end())
        return 0;
    const std::size_t accounts = found->second.logins.size();
    entries_ -= accounts;
    keys_.erase(found);
    return accounts;
}

bool TrustBook::trusts(const BanKey& key, std::string_view account, std::int64_t now) const {
    auto found = keys_.find(key);
    if (found == keys_.end())
        return false;
    return std::any_of(
        found->second.logins.begin(), found->second.logins.end(),
        [&](const Login& login) { return login.account == account && is_trusted(login, now); });
}

std::vector<TrustEntry> TrustBook::trusted(std::int64_t now) const {
    std::vector<TrustEntry> result;
    for (const auto& [key, trust] : keys_) {
        for (const Login& login : trust.logins) {
            if (is_trusted(login, now))
                result.push_back({key, login.account, login.last_seen});
        }
    }
    std::sort(result.begin(), result.end(), [](const TrustEntry& a, const TrustEntry& b) {
        if (a.key != b.key)
            return a.key < b.key;
        return a.account < b.account;
    });
    return result;
}

void TrustBook::forget_oldest() {
    // As HitTracker::forget_idlest: one pass finds the eighth of the keys
    // with the oldest logins, which costs no memory per key.
    std::vector<std::int64_t> newest;
    newest.reserve(keys_.size());
    for (const auto& [key, trust] : keys_)
        newest.push_back(trust.newest_login);
    const std::size_t forget = std::max<std::size_t>(keys_.size() / 8, 1);
    std::nth_element(newest.begin(), newest.begin() + static_cast<std::ptrdiff_t>(forget - 1),
                     newest.end());
    const std::int64_t cutoff = newest[forget - 1];
    for (auto it = keys_.begin(); it != keys_.end();) {
        if (it->second.newest_login <= cutoff) {
            entries_ -= it->second.logins.size();
            dropped_ += it->second.logins.size();
            it = keys_.erase(it);
        } else {
            ++it;
        }
    }
}

} // namespace exim_ban
