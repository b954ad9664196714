// The shipped filters (filters/), read once from disk into memory, so that
// the loader fuzzers can put an input beside them: a fuzzed file may
// include exim-common.conf as the real ones do.
#pragma once

#include "filter/text_file_reader.hpp"
#include "support/in_memory_files.hpp"

namespace exim_ban::fuzz {

inline constexpr const char* filters_dir = "/etc/exim-ban/filters.d";

inline testing::InMemoryFiles shipped_filters() {
    testing::InMemoryFiles files;
    const DiskTextFileReader disk;
    for (const auto& path : disk.list(EXIM_BAN_FILTERS_DIR))
        if (const auto text = disk.read(path))
            files.add(std::string(filters_dir) + '/' + path.filename().string(), *text);
    return files;
}

} // namespace exim_ban::fuzz
