// A Store in memory for tests of the pipeline: it keeps every committed
// batch as it came, answers the read-backs from them, and fails commits
// and reads when the test says so (a full or locked database).
#pragma once

#include "store/store.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace exim_ban::testing {

class FakeStore final : public Store {
  public:
    // --- what the test controls ---
    // The next `count` commits fail (retry = true) and store nothing.
    void fail_commits(int count, std::string message = "database or disk is full") {
        failing_ = count;
        failure_message_ = std::move(message);
    }

    // The next `count` reads fail (retry = true).
    void fail_reads(int count, std::string message = "database is locked") {
        failing_reads_ = count;
        read_failure_message_ = std::move(message);
    }

    // --- what the test reads ---
    const std::vector<Batch>& batches() const { return batches_; }
    std::size_t failed_commits() const { return failed_; }
    std::vector<StoredHit> hits() const {
        std::vector<StoredHit> all;
        for (const auto& batch : batches_)
            all.insert(all.end(), batch.hits.begin(), batch.hits.end());
        return all;
    }
    std::vector<StoredBan> bans() const {
        std::vector<StoredBan> all;
        for (const auto& batch : batches_)
            all.insert(all.end(), batch.bans.begin(), batch.bans.end());
        return all;
    }

    // --- Store ---
    std::optional<StoreFailure> commit(const Batch& batch) override {
        if (failing_ > 0) {
            --failing_;
            ++failed_;
            return StoreFailure{failure_message_, true};
        }
        batches_.push_back(batch);
        for (const auto& file : batch.files)
            offsets_[file.path] = file;
        return std::nullopt;
    }
    StoreRead<std::vector<FileOffset>> file_offsets() override {
        if (auto failure = failed_read())
            return *failure;
        std::vector<FileOffset> files;
        for (const auto& [path, file] : offsets_)
            files.push_back(file);
        return files;
    }
    StoreRead<std::vector<StoredBan>> active_bans(std::int64_t now) override {
        if (auto failure = failed_read())
            return *failure;
        std::vector<StoredBan> active;
        for (const auto& ban : bans()) {
            if (ban.expires > now)
                active.push_back(ban);
        }
        return active;
    }
    StoreRead<KeyHistory> history(const std::string& jail, const BanKey& key) override {
        if (auto failure = failed_read())
            return *failure;
        return memory_of(jail)[key];
    }
    StoreRead<JailMemory> jail_memory(const std::string& jail,
                                      std::chrono::seconds findtime) override {
        if (auto failure = failed_read())
            return *failure;
        JailMemory memory;
        for (const auto& [key, history] : memory_of(jail))
            memory.keys.emplace_back(key, history);
        std::int64_t newest = 0;
        for (const auto& hit : hits())
            newest = hit.jail == jail ? std::max(newest, hit.time) : newest;
        for (const auto& hit : hits()) {
            if (hit.jail == jail && hit.time > newest - findtime.count())
                memory.recent_hits.push_back(hit);
        }
        return memory;
    }
    // The jail's sessions the batches left open, in the order they last
    // changed.
    StoreRead<std::vector<StoredSession>> open_sessions(const std::string& jail) override {
        if (auto failure = failed_read())
            return *failure;
        std::vector<StoredSession> open;
        for (const auto& batch : batches_) {
            for (const auto& session : batch.sessions) {
                if (session.jail != jail)
                    continue;
                std::erase_if(open, [&](const auto& s) { return s.session == session.session; });
                if (session.counted > 0)
                    open.push_back(session);
            }
        }
        return open;
    }
    // Keeps what SqliteStore keeps: the latest login per (jail, key,
    // account) and the mistakes, less those a ban or a forget dropped.
    StoreRead<JailTrust> jail_trust(const std::string& jail, std::int64_t logins_since,
                                    std::int64_t mistakes_since) override {
        if (auto failure = failed_read())
            return *failure;
        std::map<std::pair<BanKey, std::string>, std::int64_t> logins;
        JailTrust trust;
        for (const auto& batch : batches_) {
            auto drop = [&](const BanKey& key) {
                std::erase_if(logins, [&](const auto& login) { return login.first.first == key; });
                std::erase_if(trust.mistakes, [&](const auto& m) { return m.key == key; });
            };
            for (const auto& forgotten : batch.forgotten)
                if (forgotten.jail.empty() || forgotten.jail == jail)
                    drop(forgotten.key);
            for (const auto& ban : batch.bans)
                if (ban.jail == jail)
                    drop(ban.key);
            auto banned_after = [&](const BanKey& key, std::int64_t time) {
                return std::any_of(batch.bans.begin(), batch.bans.end(), [&](const auto& ban) {
                    return ban.jail == jail && ban.key == key && time <= ban.start;
                });
            };
            for (const auto& success : batch.successes) {
                if (success.jail != jail || banned_after(success.key, success.time))
                    continue;
                auto& seen = logins[{success.key, success.account}];
                seen = std::max(seen, success.time);
            }
            for (const auto& mistake : batch.mistakes)
                if (mistake.jail == jail && !banned_after(mistake.key, mistake.time) &&
                    mistake.time > mistakes_since)
                    trust.mistakes.push_back(mistake);
        }
        for (const auto& [login, seen] : logins)
            if (seen > logins_since)
                trust.logins.push_back({login.first, login.second, seen});
        return trust;
    }
    StoreRead<std::vector<StoredHit>> hits_of(const std::string& jail, const BanKey& key,
                                              std::size_t limit) override {
        if (auto failure = failed_read())
            return *failure;
        std::vector<StoredHit> found;
        const auto all = hits();
        for (auto hit = all.rbegin(); hit != all.rend() && found.size() < limit; ++hit) {
            if (hit->jail == jail && hit->key == key)
                found.push_back(*hit);
        }
        return found;
    }
    StoreRead<std::vector<StoredBan>> bans_of(const BanKey& key) override {
        if (auto failure = failed_read())
            return *failure;
        std::vector<StoredBan> found;
        for (const auto& ban : bans()) {
            if (ban.key == key)
                found.push_back(ban);
        }
        return found;
    }
    std::optional<StoreFailure> purge_hits(std::int64_t) override { return std::nullopt; }

  private:
    std::optional<StoreFailure> failed_read() {
        if (failing_reads_ == 0)
            return std::nullopt;
        --failing_reads_;
        return StoreFailure{read_failure_message_, true};
    }
    std::unordered_map<BanKey, KeyHistory, IpPrefixHash> memory_of(const std::string& jail) const {
        std::unordered_map<BanKey, KeyHistory, IpPrefixHash> keys;
        for (const auto& hit : hits()) {
            if (hit.jail == jail)
                ++keys[hit.key].lifetime_hits;
        }
        for (const auto& ban : bans()) {
            if (ban.jail == jail) {
                ++keys[ban.key].bans;
                keys[ban.key].banned_until = std::max(keys[ban.key].banned_until, ban.expires);
            }
        }
        return keys;
    }

    std::vector<Batch> batches_;
    std::map<std::string, FileOffset> offsets_;
    int failing_ = 0;
    std::size_t failed_ = 0;
    std::string failure_message_;
    int failing_reads_ = 0;
    std::string read_failure_message_;
};

} // namespace exim_ban::testing
