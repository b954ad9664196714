// A jail as the daemon runs it: its filter's matcher, its judge (tracker and
// ignore list) and where its patterns are written, for the ban log lines.
#pragma once

#include "config/config.hpp"
#include "core/jail_judge.hpp"
#include "core/line_matcher.hpp"
#include "filter/loaded_filter.hpp"
#include "store/store.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace exim_ban {

struct JailRuntime {
    JailRuntime(const JailConfig& config, const LoadedFilter& filter);

    std::string name;
    std::vector<std::string>
        patterns; // where each failregex is written ("file:line"), for the logs
    LineMatcher matcher;
    JailJudge judge;
    std::vector<std::uint64_t> pattern_hits; // per failregex, since start-up
};

// Gives the jail's tracker back what the store remembers: each key's
// history, then the hits of its findtime window replayed in commit order.
// Returns how many keys and hits were restored, or the store's failure to
// read them (the tracker is then left as it was).
struct RestoredMemory {
    std::size_t keys = 0;
    std::size_t hits = 0;
};
StoreRead<RestoredMemory> restore_jail(JailRuntime& jail, Store& store);

} // namespace exim_ban
