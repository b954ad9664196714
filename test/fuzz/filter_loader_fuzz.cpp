// Any bytes as a filter file beside the shipped ones: loading either works
// or throws LoadError (file, line, what to do); nothing else may escape.
#include "core/line_matcher.hpp"
#include "core/load_error.hpp"
#include "filter/filter_loader.hpp"
#include "shipped_filters.hpp"

#include <cstdint>

using namespace exim_ban;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const testing::InMemoryFiles shipped = fuzz::shipped_filters();
    testing::InMemoryFiles files = shipped;
    files.add(std::string(fuzz::filters_dir) + "/fuzzed.conf",
              std::string(reinterpret_cast<const char*>(data), size));
    try {
        const LoadedFilter filter =
            load_filter(parse_filter_spec("fuzzed"), fuzz::filters_dir, files);
        // What the loader accepts must compile for the matcher as well.
        const LineMatcher matcher(filter.matcher_patterns());
        matcher.match("login authenticator failed for (x) [192.0.2.1]: 535 Incorrect");
    } catch (const LoadError&) {
    }
    return 0;
}
