// Exim's second copy of a log line in the journal. Logging to syslog with
// syslog_duplication = true (its default), Exim sends a line it writes to
// both the mainlog and the reject log (log_write with LOG_MAIN|LOG_REJECT:
// an authenticator failure, an ACL rejection, a synchronization error, a
// dropped connection) twice from the same process, back to back: the main
// copy at priority info (6), then the reject copy at notice (5), which may
// carry the message's headers after a newline, and is then split into
// parts by Exim's write_syslog (the marks of core/syslog_line.hpp). With
// syslog_duplication = false only the reject copy is sent. So a notice
// entry whose first line repeats the info entry its process sent last
// (within max_gap_us of journal time) is the second copy of one event: it
// and the further parts of its split chain are taken out, and each event
// counts once in both settings. An honest repeat (two info entries, two
// notice entries with no info entry between them) is never taken out.
//
// First lines are compared by their first part: a whole line (no mark, or
// a part that ends where the entry had a newline) with a whole line; a
// first line Exim cut after 870 bytes by those 870 bytes. Pure; its memory
// is bounded: the last info entry of at most max_pids processes, the one
// heard from longest ago forgotten first.
#pragma once

#include "journal/journal_entry.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace exim_ban {

class RejectCopyFilter {
  public:
    struct Limits {
        std::size_t max_pids = 256;           // processes remembered at once
        std::size_t max_text = 8192;          // Exim's LOG_BUFFER_SIZE holds a whole line
        std::uint64_t max_gap_us = 2'000'000; // Exim sends the copies at once
    };

    RejectCopyFilter()
        : RejectCopyFilter(Limits{}) {}
    explicit RejectCopyFilter(Limits limits);

    // Whether `entry` (the next entry read, in journal order) is the reject
    // copy of the main copy its process sent just before, or a further part
    // of such a copy: then it is not handed on. It is remembered either way;
    // an entry without a pid (SYSLOG_PID, else _PID) is never a copy.
    bool is_reject_copy(const JournalEntry& entry);

  private:
    struct Process {
        std::string pid;
        std::uint64_t heard = 0; // the order of its last entry, for eviction
        // Its last info entry's first part, until an entry of another
        // priority (the reject copy or not) follows it.
        bool main_copy = false;
        bool main_whole = false; // that part holds the whole first line
        std::uint64_t main_us = 0;
        std::string main_text;
        // The parts of a reject copy being taken out: the next, of how many;
        // next 0 when none.
        unsigned skip_next = 0;
        unsigned skip_total = 0;
    };

    Process& process_of(const std::string& pid);

    Limits limits_;
    std::vector<Process> processes_;
    std::uint64_t heard_ = 0;
};

} // namespace exim_ban
