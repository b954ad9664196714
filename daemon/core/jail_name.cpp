#include "core/jail_name.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace exim_ban {

bool is_jail_name(std::string_view name) {
    if (name.empty() || name.size() > 24 || !is_lower(name.front()))
        return false;
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return is_lower(c) || is_digit(c) || c == '_'; });
}

} // namespace exim_ban
