// The INI dialect of fail2ban's filter and jail files (Python ConfigParser
// as fail2ban configures it): "[section]", "key = value" or "key: value",
// continuation lines indented deeper than their key, full-line comments
// starting with '#' or ';', inline comments starting with " ;". Every value
// line keeps the file and line it came from, so that errors can point there.
//
// Hand-written rather than libinih: inih cannot report line numbers through
// Debian's build and cuts lines at 200 bytes, shorter than many regexes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace exim_ban {

struct SourceLine {
    std::string text;
    std::string file;
    int line = 0;
};

// A value is one or more lines; the first is the text after the '='.
using IniValue = std::vector<SourceLine>;

struct IniEntry {
    std::string key;
    IniValue value;
};

struct IniSection {
    std::string name;
    int line = 0;
    std::vector<IniEntry> entries;
};

struct IniDocument {
    std::string file;
    std::vector<IniSection> sections;
};

// Throws LoadError (file:line) on a line that is neither a section, an
// option, a continuation nor a comment, and on an option before any section.
IniDocument parse_ini(std::string_view text, const std::string& file);

// The value's lines joined with '\n'.
std::string join_lines(const IniValue& value);

} // namespace exim_ban
