// Matches Exim messages (a log line after its timestamp) against one
// filter's patterns. All failregexes run together as one RE2::Set, so a line
// costs one pass whatever the number of patterns; only a line that matches
// is run again through its pattern to extract the host.
#pragma once

#include "core/ip_address.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <re2/re2.h>
#include <re2/set.h>
#include <string>
#include <string_view>
#include <vector>

namespace exim_ban {

// RE2-syntax patterns; each failregex holds one group named "host" and may
// hold one named "f_user" (<F-USER>: the account the line is about), one
// named "f_session" (<F-SESSION>: the session the attempt belongs to) and
// one named "f_attempts" (<F-ATTEMPTS>: the failed attempts a summary line
// reports, digits); a prefregex one named "f_content" (see
// filter/regex_translation.hpp).
struct LineMatcherPatterns {
    std::optional<std::string> prefregex;
    std::vector<std::string> failregex;
    std::vector<std::string> ignoreregex;
};

struct LineMatch {
    enum class Kind {
        none,         // no failregex matched
        hit,          // `host` is the address to count, `pattern` the failregex
        ignored,      // a failregex matched, an ignoreregex dropped it
        invalid_host, // a failregex matched but its host is no IP address
    };
    Kind kind = Kind::none;
    std::size_t pattern = 0;
    IpAddress host;
    // <F-USER>'s text with a hit, empty when the pattern has none; a view
    // into the message matched.
    std::string_view account;
    // <F-SESSION>'s text with a hit, empty when none: a view into the
    // message matched.
    std::string_view session;
    // <F-ATTEMPTS>'s number with a hit (a line that sums up a session's
    // failed attempts, at most 1000), nullopt when the pattern captured
    // none: the line is one attempt. See SessionAttempts.
    std::optional<std::uint32_t> attempts;
};

class LineMatcher {
  public:
    // Throws std::invalid_argument when a pattern does not compile or lacks
    // its group; the filter loader has checked them, so this is a bug guard.
    explicit LineMatcher(const LineMatcherPatterns& patterns);
    ~LineMatcher();
    LineMatcher(LineMatcher&&) noexcept;
    LineMatcher& operator=(LineMatcher&&) noexcept;

    LineMatch match(std::string_view message) const;
    std::size_t pattern_count() const { return failregex_.size(); }

  private:
    // A start-anchored failregex "^PREFIX(?P<host>HOST)SUFFIX" whose host
    // group stands at the top level is also kept in three parts: each part runs on the DFA
    // alone, which is many times cheaper than asking RE2 for the group.
    struct HostSplit {
        std::unique_ptr<RE2> prefix, host, suffix;
    };
    struct Compiled {
        std::unique_ptr<RE2> regex;
        int host_group = 0;
        int user_group = -1;     // -1: no <F-USER>
        int session_group = -1;  // -1: no <F-SESSION>
        int attempts_group = -1; // -1: no <F-ATTEMPTS>
        std::optional<HostSplit> split;
    };
    struct SplitResult {
        enum class State { no_match, found, unknown } state;
        re2::StringPiece host;
    };
    static SplitResult split_host(const HostSplit& split, std::string_view text);
    static LineMatch classify_host(std::size_t index, std::string_view host);
    std::optional<LineMatch> extract(std::size_t index, std::string_view text) const;

    std::unique_ptr<RE2> prefregex_;
    int content_group_ = 0;
    std::unique_ptr<RE2::Set> set_;
    std::vector<Compiled> failregex_;
    std::vector<std::unique_ptr<RE2>> ignoreregex_;
};

// Whether a pattern can only match at the start of the text: it begins with
// '^' and has no '|' outside of groups. A filter whose patterns all do is
// matched with an anchored Set, which stops at the first byte that no
// pattern can take instead of scanning the rest of the line.
bool is_start_anchored(std::string_view pattern);

} // namespace exim_ban
