#include "pipeline/jail_runtime.hpp"

#include "store/store.hpp"

namespace exim_ban {

JailRuntime::JailRuntime(const JailConfig& config, const LoadedFilter& filter)
    : name(config.name)
    , matcher(filter.matcher_patterns())
    , judge(config.policy, config.ignore, config.max_tracked_keys)
    , pattern_hits(filter.failregex.size(), 0) {
    for (const auto& pattern : filter.failregex)
        patterns.push_back(pattern.file + ":" + std::to_string(pattern.line));
}

StoreRead<RestoredMemory> restore_jail(JailRuntime& jail, Store& store) {
    HitTracker& tracker = jail.judge.tracker();
    const auto read = store.jail_memory(jail.name, tracker.policy().findtime);
    if (!read)
        return read.failure();
    const JailMemory& memory = read.value();
    for (const auto& [key, history] : memory.keys)
        tracker.restore(key, history);
    for (const auto& hit : memory.recent_hits)
        tracker.replay(hit.key, hit.time);
    return RestoredMemory{memory.keys.size(), memory.recent_hits.size()};
}

} // namespace exim_ban
