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
