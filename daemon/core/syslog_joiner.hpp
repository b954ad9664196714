// Joins the parts of an entry that Exim split for syslog (the "[i/n] "
// marks, see syslog_line.hpp) back into the entry's first line: the line a
// mainlog holds with its timestamp, and the only one filters match. Parts
// are keyed as Exim writes them, by process: one process sends the parts of
// one entry in order before its next entry, so host, ident and pid say
// which entry a part continues. A part is glued only to the entry its
// process left waiting for exactly that part, within max_gap of log time of
// the part before. Anything else drops what waited, and counts its parts:
// a part after a lost one, a first part or a whole line while an entry
// waits, an entry that waits longer than max_gap, more entries waiting than
// max_waiting, a first line longer than Exim's log buffer, a part whose
// sender names no pid. The parts after the first line are consumed and
// never matched: a mainlog holds them as lines without a timestamp, and in
// the reject log's copy of an entry they are the message's headers, client
// text.
#pragma once

#include "core/log_time.hpp"
#include "core/syslog_line.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace exim_ban {

struct SyslogSender {
    std::string_view host;
    std::string_view ident;
    std::optional<std::uint32_t> pid;
};

class SyslogJoiner {
  public:
    struct Limits {
        std::size_t max_waiting = 64;      // entries waiting at once, over all processes
        std::size_t max_first_line = 8192; // Exim's LOG_BUFFER_SIZE holds a whole entry
        std::int64_t max_gap_ms = 2000;    // Exim sends the parts at once
    };

    struct Joined {
        LogTime time;          // the syslog date of the entry's first part
        std::string_view text; // the entry's first line; valid until the next call
    };

    SyslogJoiner()
        : SyslogJoiner(Limits{}) {}
    explicit SyslogJoiner(Limits limits);

    // Part `part`, with its text, of an entry from `sender`, whose syslog
    // date is `time`. Returns the entry's first line when this part ends it
    // (it ends a line, or is the last); nullopt while the entry waits for
    // more, for a part after the first line, and for a part that joins
    // nothing (dropped).
    std::optional<Joined> add(const SyslogSender& sender, const SyslogPart& part,
                              std::string_view text, const LogTime& time);

    // A line from `sender` dated `time` that is no part: an entry the sender
    // left waiting will never be finished, and is dropped; and so is every
    // entry that waited longer than max_gap before `time`.
    void other_line(const SyslogSender& sender, const LogTime& time);

    // The log has ended (a finished file): drops whatever waits.
    void finish();

    // Whether an entry waits for a part (or for the parts after its first
    // line): while none does, a line needs none of this.
    bool waiting() const { return active_ > 0; }

    // Parts dropped since the last call: of entries that never completed,
    // and parts that joined nothing.
    std::uint64_t take_dropped() { return std::exchange(dropped_, 0); }

  private:
    struct Waiting {
        bool active = false;
        std::string host;
        std::string ident;
        std::uint32_t pid = 0;
        unsigned total = 0;
        unsigned next = 0;            // the index of the part it waits for
        bool first_line_done = false; // only the rest of the entry is left
        std::string text;             // the first line so far
        LogTime time;                 // of the first part
        std::int64_t last_ms = 0;     // log time of the latest part
        std::uint64_t parts = 0;
    };

    Waiting* find(const SyslogSender& sender);
    Waiting& start(const SyslogSender& sender, const SyslogPart& part, const LogTime& time);
    void drop(Waiting& waiting);
    void release(Waiting& waiting);
    void expire(std::int64_t now_ms);

    Limits limits_;
    std::vector<Waiting> waiting_;
    std::size_t active_ = 0;
    std::uint64_t dropped_ = 0;
};

} // namespace exim_ban
