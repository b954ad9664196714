// track-bench: hits through the tracker and the SQLite store, in batches as
// the daemon writes them. Prints hits/s persisted, peak RSS and the size of
// the database. See test/bench/README.md.
#include "core/jail_judge.hpp"
#include "store/sqlite_store.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <unistd.h>

using namespace exim_ban;

namespace {

struct Options {
    std::uint64_t hits = 1'000'000;
    std::uint64_t keys = 100'000;
    std::uint64_t batch = 10'000;
    std::uint64_t max_keys = 1'000'000;
    bool flood = false; // every hit from a new address
    std::filesystem::path db;
};

long peak_rss_kb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmHWM:", 0) == 0)
            return std::strtol(line.c_str() + 6, nullptr, 10);
    }
    return -1;
}

std::uintmax_t size_of(const std::filesystem::path& path) {
    std::error_code error;
    const auto size = std::filesystem::file_size(path, error);
    return error ? 0 : size;
}

// Deterministic addresses: a quarter IPv6 (spread over /64s), the rest IPv4.
IpAddress address_for(std::uint64_t n) {
    if (n % 4 == 3) {
        IpAddress::Bytes bytes{0x20, 0x01, 0x0d, 0xb8};
        for (int i = 0; i < 8; ++i)
            bytes[static_cast<std::size_t>(4 + i)] = static_cast<std::uint8_t>(n >> (8 * (i % 4)));
        bytes[15] = static_cast<std::uint8_t>(n * 7);
        return IpAddress::from_v6(bytes);
    }
    return IpAddress::from_v4(0x0b000000u + static_cast<std::uint32_t>(n));
}

} // namespace

int main(int argc, char** argv) {
    Options options;
    options.db = std::filesystem::temp_directory_path() /
                 ("track-bench-" + std::to_string(::getpid()) + ".db");
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "track_bench: %s needs a value\n", arg.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (arg == "--hits")
            options.hits = std::stoull(next());
        else if (arg == "--keys")
            options.keys = std::stoull(next());
        else if (arg == "--batch")
            options.batch = std::stoull(next());
        else if (arg == "--max-keys")
            options.max_keys = std::stoull(next());
        else if (arg == "--flood")
            options.flood = true;
        else if (arg == "--db")
            options.db = next();
        else {
            std::fprintf(stderr, "usage: track_bench [--hits N] [--keys K] [--batch B] [--max-keys "
                                 "M] [--flood] [--db PATH]\n");
            return 2;
        }
    }
    std::filesystem::remove(options.db);

    JailPolicy policy;
    policy.maxretry = 5;
    CidrSet ignore;
    ignore.add(*IpPrefix::parse("127.0.0.0/8"));
    JailJudge judge(policy, std::move(ignore), options.max_keys);
    SqliteStore store(options.db);

    std::mt19937_64 random(42);
    std::uint64_t bans = 0, failed_commits = 0;
    const auto started = std::chrono::steady_clock::now();
    Batch batch;
    for (std::uint64_t i = 0; i < options.hits; ++i) {
        const std::uint64_t n = options.flood ? i : random() % options.keys;
        const IpAddress host = address_for(n);
        const std::int64_t time = 1'700'000'000 + static_cast<std::int64_t>(i / 100);
        const auto outcome = judge.hit(host, time);
        batch.hits.push_back({"exim", outcome.key, time, static_cast<std::uint32_t>(i % 7)});
        if (outcome.ban) {
            ++bans;
            batch.bans.push_back({"exim", outcome.key, time, time + outcome.ban->duration.count(),
                                  "maxretry", "log"});
        }
        if (batch.hits.size() >= options.batch || i + 1 == options.hits) {
            batch.files.push_back({"/var/log/exim4/mainlog", 1, 2, "hash", i * 120});
            if (store.commit(batch))
                ++failed_commits;
            batch = Batch{};
        }
    }
    // The counts' checkpoint is part of persisting: timed too.
    const auto checkpoint_started = std::chrono::steady_clock::now();
    if (store.checkpoint_counts())
        ++failed_commits;
    const double checkpoint_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - checkpoint_started)
            .count();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    std::printf("track-bench: %s\n",
                options.flood ? "flood (every hit a new address)" : "hits over a key population");
    std::printf("  hits             %llu (%llu %s)\n",
                static_cast<unsigned long long>(options.hits),
                static_cast<unsigned long long>(options.flood ? options.hits : options.keys),
                options.flood ? "distinct addresses" : "keys");
    std::printf("  batch            %llu hits per transaction\n",
                static_cast<unsigned long long>(options.batch));
    std::printf("  seconds          %.3f\n", seconds);
    std::printf("  hits/s persisted %.0f\n", static_cast<double>(options.hits) / seconds);
    std::printf("  of which         %.3f s the final lifetime-count checkpoint\n",
                checkpoint_seconds);
    std::printf("  bans             %llu\n", static_cast<unsigned long long>(bans));
    std::printf("  tracked keys     %zu (cap %llu, dropped %llu)\n", judge.tracker().tracked_keys(),
                static_cast<unsigned long long>(options.max_keys),
                static_cast<unsigned long long>(judge.tracker().dropped_keys()));
    std::printf("  peak RSS         %.1f MB\n", static_cast<double>(peak_rss_kb()) / 1024.0);
    std::printf("  database         %.1f MB (+ WAL %.1f MB)\n",
                static_cast<double>(size_of(options.db)) / 1e6,
                static_cast<double>(size_of(options.db.string() + "-wal")) / 1e6);
    std::printf("  failed commits   %llu\n", static_cast<unsigned long long>(failed_commits));
    std::filesystem::remove(options.db);
    std::filesystem::remove(options.db.string() + "-wal");
    std::filesystem::remove(options.db.string() + "-shm");
    return failed_commits == 0 ? 0 : 1;
}
