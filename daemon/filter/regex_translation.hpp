// Turns a fail2ban-style regex (Python syntax with <HOST>, <ADDR>, <IP4>,
// <IP6> and <F-NAME>...</F-NAME> tags) into RE2 syntax, and checks that RE2
// can compile it. The host tags become one capture group named "host" that
// only an IP literal can fill: a host name never matches, so nothing is ever
// resolved.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace exim_ban {

inline constexpr const char* host_group_name = "host";

// Thrown with a message that says what is wrong and what to do; the loader
// adds the file and line.
class RegexError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

enum class HostTag { required, optional };

// `tags` says whether the pattern must hold exactly one host tag (failregex)
// or may hold none (ignoreregex, prefregex). Throws RegexError.
std::string translate_regex(std::string_view pattern, HostTag tags);

// The RE2 text that the host tags stand for; `family` is "", "4" or "6".
std::string host_group_regex(std::string_view family);

// Compiles with the options every exim-ban regex uses (Latin-1: log bytes are
// not assumed to be UTF-8); throws RegexError with RE2's message.
void check_re2_compiles(const std::string& re2_pattern);

} // namespace exim_ban
