// A filter as a jail or `exim-banctl test` names it: "exim",
// "exim[mode=more]", "exim-spam[honeypot=trap@example.com, logtype=journal]",
// or a path to a .conf or .patterns file.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace exim_ban {

struct FilterSpec {
    std::string name; // a filter name or a path
    std::map<std::string, std::string> parameters;

    bool is_path() const;
    std::string to_string() const;
};

// Throws std::invalid_argument with a message saying what is
// wrong: an empty name, an unclosed '[', a parameter without '='.
FilterSpec parse_filter_spec(std::string_view text);

} // namespace exim_ban
