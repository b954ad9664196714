// Any bytes as a mainlog line through every shipped filter and mode, as the
// daemon reads them. Beyond not crashing: an IPv4 host a filter reports
// must stand in the line as written, never be pieced together from client
// text elsewhere.
#include "core/exim_line.hpp"
#include "core/line_matcher.hpp"
#include "filter/filter_loader.hpp"
#include "shipped_filters.hpp"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

using namespace exim_ban;

namespace {

std::vector<std::unique_ptr<LineMatcher>>& matchers() {
    static std::vector<std::unique_ptr<LineMatcher>> all;
    return all;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const auto files = fuzz::shipped_filters();
    for (const char* spec :
         {"exim[mode=normal]", "exim[mode=more]", "exim[mode=aggressive]", "exim-spam"})
        matchers().push_back(std::make_unique<LineMatcher>(
            load_filter(parse_filter_spec(spec), fuzz::filters_dir, files).matcher_patterns()));
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    const auto parsed = split_exim_line(line);
    if (!parsed)
        return 0;
    for (const auto& matcher : matchers()) {
        const LineMatch match = matcher->match(parsed->message);
        if (match.kind == LineMatch::Kind::hit && match.host.is_v4() &&
            parsed->message.find(match.host.to_string()) == std::string_view::npos)
            std::abort();
    }
    return 0;
}
