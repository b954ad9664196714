// fail2ban's jail configuration as fail2ban reads it: NAME.conf, then
// NAME.d/*.conf, NAME.local, NAME.d/*.local (each in name order, each with
// its [INCLUDES]), merged key by key with the later file winning.
#pragma once

#include "filter/filter_sections.hpp"
#include "filter/text_file_reader.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace exim_ban {

struct Fail2banJailFiles {
    FilterSections sections;
    std::vector<std::string> files; // every file merged, includes too, in order
};

// `given` is jail.conf or jail.local (or another NAME.conf/NAME.local): the
// set is the one of its NAME; a file of another extension is read alone.
// `given` must exist; the others may not.
// Throws LoadError (file:line) for a missing `given`, a missing include or
// a line that is not INI.
Fail2banJailFiles read_fail2ban_jail_files(const std::filesystem::path& given,
                                           const TextFileReader& files);

} // namespace exim_ban
