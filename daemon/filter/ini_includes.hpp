// fail2ban's [INCLUDES] section, as its filter and jail files use it:
// "before" and "after" name files beside the including one, read before and
// after it. Shared by the filter loader and the fail2ban jail import.
#pragma once

#include "filter/filter_sections.hpp"
#include "filter/text_file_reader.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace exim_ban {

class IniIncludeReader {
  public:
    IniIncludeReader(const TextFileReader& files, FilterSections& sections)
        : files_(files)
        , sections_(sections) {}

    // Merges `path` into the sections in fail2ban's order: the files its
    // "before" names, the file itself, the files its "after" names. A
    // missing file is skipped unless `required`; a missing include is an
    // error unless it is a .local. Throws LoadError for a missing required
    // file (naming `included_from` when given), an include loop, an
    // [INCLUDES] key other than before/after, and what parse_ini rejects.
    void read(const std::filesystem::path& path, bool required, const std::string& included_from);
    // Every file merged so far, includes too, in the order merged (a later
    // one overrides an earlier one).
    const std::vector<std::filesystem::path>& files_read() const { return read_; }

  private:
    void read_include(const std::filesystem::path& from, const SourceLine& include);

    const TextFileReader& files_;
    FilterSections& sections_;
    std::vector<std::filesystem::path> stack_;
    std::vector<std::filesystem::path> read_;
};

} // namespace exim_ban
