// The RE2 options of every exim-ban regex.
#pragma once

#include <re2/re2.h>

namespace exim_ban {

// Latin-1, so that every log byte is one character whatever its encoding
// (Exim logs bytes as the client sent them); errors are returned, not
// printed.
inline RE2::Options regex_options() {
    RE2::Options options;
    options.set_encoding(RE2::Options::EncodingLatin1);
    options.set_log_errors(false);
    return options;
}

} // namespace exim_ban
