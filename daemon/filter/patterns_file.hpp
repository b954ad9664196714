// The pattern-file format of Symbiosis/nftfw firewalls: one regex a line,
// "__IP__" where the address stands, '#' comments, blank lines ignored.
#pragma once

#include "filter/loaded_filter.hpp"

#include <string>
#include <string_view>

namespace exim_ban {

// Throws LoadError (file:line) for a line without exactly one __IP__ or one
// that RE2 cannot compile. Unanchored lines load with a warning: without '^'
// client text earlier in the log line could supply the address.
LoadedFilter parse_patterns_file(std::string_view text, const std::string& file);

} // namespace exim_ban
