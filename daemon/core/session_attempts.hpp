// One failed login counts once, however many lines tell of it. With
// auth_verbose, Dovecot writes each failed attempt in its auth process
// ("passwd-file(USER,IP,<SESSION>): Password mismatch"), and the login
// process's line at the end of the session sums them up ("Disconnected
// (auth failed, 3 attempts ...): ..., session=<SESSION>"); without
// auth_verbose only the summary is written. So:
//   - a line with a session and no attempt count (the auth process's) is one
//     attempt, remembered against its session;
//   - a summary of N attempts counts N less those its session has counted,
//     and ends the session's memory;
//   - a line without a session counts its N attempts, or one.
// The memory is bounded: past `capacity` sessions, the oldest is forgotten
// (its summary then counts its attempts again: a flood of sessions that
// never end can make an attempt count twice, never none). The pipeline
// stores each change of a session with the batch (counted(), 0 once it
// ended) and restore()s the open ones at start-up and reload, so a restart
// between a session's lines counts each attempt once too. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace exim_ban {

class SessionAttempts {
  public:
    static constexpr std::size_t default_capacity = 65536;

    explicit SessionAttempts(std::size_t capacity = default_capacity);

    // The failed attempts a matched line adds (LineMatch::session and
    // ::attempts): see above. May be 0 (a summary whose attempts were all
    // counted already).
    std::uint32_t count(std::string_view session, std::optional<std::uint32_t> attempts);

    // The attempts counted so far of a session still open; 0 for one that
    // ended or was never seen.
    std::uint32_t counted(std::string_view session) const;
    // A session still open as the store remembers it (at start-up, in the
    // order the sessions last changed).
    void restore(std::string_view session, std::uint32_t counted);

    std::size_t sessions() const { return counted_.size(); }
    // Sessions forgotten because the memory was full.
    std::uint64_t forgotten() const { return forgotten_; }

  private:
    struct Session {
        std::uint32_t counted = 0;
        std::list<std::string>::iterator age; // into oldest_first_
    };

    // A new session with `counted` attempts, the oldest forgotten when full.
    void open(const std::string& session, std::uint32_t counted);

    std::size_t capacity_;
    std::list<std::string> oldest_first_;
    std::unordered_map<std::string, Session> counted_;
    std::uint64_t forgotten_ = 0;
};

} // namespace exim_ban
