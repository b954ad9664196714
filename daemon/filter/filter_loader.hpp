// Loads a filter by name or path: fail2ban's .conf/.local files (the subset
// DESIGN.md lists: [INCLUDES] before/after, [Definition], [Init],
// interpolation, <tags>, parameters) or a .patterns file (one regex a line,
// __IP__ for the address). Every pattern is translated to RE2 and compiled
// here, so a bad one is reported at load time with its file and line.
#pragma once

#include "filter/filter_spec.hpp"
#include "filter/loaded_filter.hpp"
#include "filter/text_file_reader.hpp"

#include <filesystem>
#include <vector>

namespace exim_ban {

// A name is looked up as NAME.conf (then NAME.local over it) or
// NAME.patterns in `filters_dir`; a path is loaded as it is. Throws LoadError
// naming the file, the line, the pattern and what to do.
LoadedFilter load_filter(const FilterSpec& spec, const std::filesystem::path& filters_dir,
                         const TextFileReader& files);

} // namespace exim_ban
