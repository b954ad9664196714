#include "import/fail2ban_bans.hpp"

#include "core/ban_key.hpp"

#include <algorithm>
#include <optional>

namespace exim_ban {
namespace {

const std::string import_reason = "fail2ban";
const std::string import_origin = "import";

// One fail2ban address's bans: its bips row and its bans rows.
struct AddressBans {
    std::optional<Fail2banBanRow> latest;
    std::vector<Fail2banBanRow> rows;
};

// Per key, per address as fail2ban wrote it.
using Grouped = std::map<BanKey, std::map<std::string, AddressBans>>;

// The starts of the key's rows an earlier import wrote, as a multiset: one
// fail2ban ban is one of them at most.
class Imported {
  public:
    Imported(const std::vector<StoredBan>& stored, const std::string& jail) {
        for (const auto& ban : stored) {
            if (ban.jail == jail && ban.origin == import_origin)
                ++starts_[ban.start];
        }
    }
    bool take(std::int64_t start) {
        auto found = starts_.find(start);
        if (found == starts_.end() || found->second == 0)
            return false;
        --found->second;
        return true;
    }

  private:
    std::map<std::int64_t, int> starts_;
};

class BanMapper {
  public:
    BanMapper(const JailConfig& jail, std::int64_t now, const StoredBansOf& stored)
        : jail_(jail)
        , now_(now)
        , stored_(stored) {}

    BanImport map(const std::vector<Fail2banBanRow>& current,
                  const std::vector<Fail2banBanRow>& history) {
        Grouped grouped;
        for (const auto& row : current) {
            std::string why;
            if (auto key = key_of(row.ip, why))
                grouped[*key][row.ip].latest = row;
            else
                ++result_.skipped[why];
        }
        // An address skipped above is skipped here too, and counted once.
        for (const auto& row : history) {
            std::string why;
            if (auto key = key_of(row.ip, why))
                grouped[*key][row.ip].rows.push_back(row);
        }
        for (const auto& [key, addresses] : grouped)
            map_key(key, addresses);
        return std::move(result_);
    }

  private:
    std::optional<BanKey> key_of(const std::string& ip, std::string& why) const {
        const auto address = IpAddress::parse(ip);
        if (!address) {
            why = "not an address";
            return std::nullopt;
        }
        if (address->is_loopback()) {
            why = "loopback";
            return std::nullopt;
        }
        const BanKey key = ban_key(*address, jail_.policy.ipv6_prefix);
        // An IPv6 network must not cover an ignored address either.
        if (jail_.ignore.contains(*address) || jail_.ignore.overlaps(key)) {
            why = "ignored";
            return std::nullopt;
        }
        return key;
    }

    std::int64_t end_of(const Fail2banBanRow& row) const {
        return row.bantime < 0 ? now_ + jail_.policy.maxtime.count() : row.timeofban + row.bantime;
    }

    StoredBan ban(const BanKey& key, std::int64_t start, std::int64_t expires) const {
        return {jail_.name, key, start, expires, import_reason, import_origin, 0};
    }

    void map_key(const BanKey& key, const std::map<std::string, AddressBans>& addresses) {
        const std::vector<StoredBan> stored = stored_(key);
        Imported imported(stored, jail_.name);

        // Of the addresses fail2ban still bans, the ban that ends last
        // stands for the key; the others are counted as its earlier bans.
        const std::string* chosen = nullptr;
        for (const auto& [ip, bans] : addresses) {
            if (!bans.latest)
                continue;
            if (end_of(*bans.latest) <= now_) {
                ++result_.skipped["expired"];
                continue;
            }
            if (chosen != nullptr) {
                ++result_.skipped[same_key(key)];
                if (end_of(*bans.latest) <= end_of(*addresses.at(*chosen).latest))
                    continue;
            }
            chosen = &ip;
        }

        for (const auto& [ip, bans] : addresses)
            add_history(key, bans, &ip == chosen, imported);

        if (chosen == nullptr)
            return;
        const Fail2banBanRow& latest = *addresses.at(*chosen).latest;
        if (imported.take(latest.timeofban)) {
            ++result_.skipped["already imported"];
            return;
        }
        const bool banned = std::any_of(stored.begin(), stored.end(), [&](const StoredBan& ban) {
            return ban.jail == jail_.name && ban.lifted == 0 && ban.expires > now_;
        });
        if (banned) {
            ++result_.skipped["already banned"];
            return;
        }
        result_.batch.bans.push_back(ban(key, latest.timeofban, end_of(latest)));
        ++(key.network().is_v4() ? result_.current_v4 : result_.current_v6);
    }

    // fail2ban may write one IPv4 address twice (once IPv4-mapped).
    std::string same_key(const BanKey& key) const {
        return key.network().is_v4() ? "same address"
                                     : "same /" + std::to_string(jail_.policy.ipv6_prefix);
    }

    // An address's earlier bans: the rows fail2ban still has, with their
    // times, and as many more as its bancount says it had before them
    // (fail2ban purges bans rows after its dbpurgeage, never the count).
    void add_history(const BanKey& key, const AddressBans& bans, bool is_current,
                     Imported& imported) {
        std::vector<Fail2banBanRow> known = bans.rows;
        std::int64_t count = static_cast<std::int64_t>(known.size());
        if (bans.latest) {
            const bool listed = std::any_of(known.begin(), known.end(), [&](const auto& row) {
                return row.timeofban == bans.latest->timeofban;
            });
            if (!listed)
                known.push_back(*bans.latest);
            count = std::max(count + (listed ? 0 : 1), bans.latest->bancount);
        }
        if (known.empty())
            return;
        for (const auto& row : known)
            count = std::max(count, row.bancount);
        std::sort(known.begin(), known.end(),
                  [](const auto& a, const auto& b) { return a.timeofban < b.timeofban; });
        const std::int64_t first = known.front().timeofban;
        if (is_current) {
            std::erase_if(known,
                          [&](const auto& row) { return row.timeofban == bans.latest->timeofban; });
            --count;
        }
        for (const auto& row : known)
            add_history_row(key, row.timeofban, std::min(end_of(row), now_), imported);
        for (auto missing = count - static_cast<std::int64_t>(known.size()); missing > 0; --missing)
            add_history_row(key, first, first, imported);
    }

    void add_history_row(const BanKey& key, std::int64_t start, std::int64_t expires,
                         Imported& imported) {
        if (imported.take(start))
            return;
        result_.batch.bans.push_back(ban(key, start, expires));
        ++result_.history;
    }

    const JailConfig& jail_;
    std::int64_t now_;
    const StoredBansOf& stored_;
    BanImport result_;
};

} // namespace

std::size_t BanImport::skipped_total() const {
    std::size_t total = 0;
    for (const auto& [reason, count] : skipped)
        total += count;
    return total;
}

BanImport map_fail2ban_bans(const std::vector<Fail2banBanRow>& current,
                            const std::vector<Fail2banBanRow>& history, const JailConfig& jail,
                            std::int64_t now, const StoredBansOf& stored) {
    return BanMapper(jail, now, stored).map(current, history);
}

} // namespace exim_ban
