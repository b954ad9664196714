// One jail's verdict on each hit: an ignored host is never counted, a
// known user's mistake is excused (see trust_book.hpp), a key is banned when
// the tracker says so, and never when the ban would cover an ignored address
// (an IPv6 /64 holding one of our own, say); a ban drops the key's trust. Pure: the
// daemon and `exim-banctl test --bans` both feed it hits in log time.
#pragma once

#include "core/cidr_set.hpp"
#include "core/hit_tracker.hpp"
#include "core/ip_address.hpp"
#include "core/trust_book.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace exim_ban {

class JailJudge {
  public:
    JailJudge(const JailPolicy& policy, CidrSet ignore, std::size_t max_keys);

    enum class Verdict {
        counted,    // the hit counts against its key
        ignored,    // the host is on the ignore list
        banned,     // the hit completes a ban: see `ban`
        protected_, // a ban was due but would cover an ignored address
        excused     // a known user's mistake: not counted
    };
    struct Outcome {
        Verdict verdict;
        BanKey key;
        std::optional<BanDecision> ban;
    };

    // `account` is the account the failure is about (a filter's <F-USER>),
    // empty when the line names none.
    Outcome hit(const IpAddress& host, std::int64_t time, std::string_view account = {});
    // As hit(), for a daemon reading lines as they come: a hit at or before
    // `now` - findtime (a backlog after downtime) is counted but can never
    // start a ban, as a ban from it would be long overdue.
    Outcome hit(const IpAddress& host, std::int64_t time, std::int64_t now,
                std::string_view account = {});

    HitTracker& tracker() { return tracker_; }
    const HitTracker& tracker() const { return tracker_; }
    const CidrSet& ignore() const { return ignore_; }
    TrustBook& trust() { return trust_; }
    const TrustBook& trust() const { return trust_; }

  private:
    HitTracker tracker_;
    TrustBook trust_;
    CidrSet ignore_;
};

} // namespace exim_ban
