// The systemd journal as the JournalSource reads it: an I/O edge, so that
// the source's resume, pause and follow logic is tested on a fake
// (test/support/fake_journal_reader.hpp). SdJournalReader is the real one.
// The reader holds a read pointer among the entries its match selects.
#pragma once

#include "journal/journal_entry.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace exim_ban {

class JournalReader {
  public:
    enum class Step {
        entry, // the pointer moved to the next entry: entry() and cursor() read it
        end,   // no entry after the pointer yet
        failed // the journal could not be read (logged by the reader)
    };

    virtual ~JournalReader() = default;
    // Points before the oldest entry.
    virtual void seek_head() = 0;
    // Points at the place of the cursor's entry, whether or not that entry
    // is still in the journal: next() then moves to it, or to the oldest
    // entry after it when it was rotated or vacuumed away. Returns false for
    // a cursor the journal cannot parse (the pointer is then at the head).
    virtual bool seek_cursor(const std::string& cursor) = 0;
    virtual Step next() = 0;
    // The entry at the pointer (after next() returned entry).
    virtual void entry(JournalEntry& into) = 0;
    // The cursor of the entry at the pointer; empty when it cannot be read.
    virtual std::string cursor() = 0;
    // Whether the entry at the pointer is the cursor's.
    virtual bool at_cursor(const std::string& cursor) = 0;

    // What the io_context waits on for new entries: a descriptor that
    // becomes readable (owned by the reader), and after it woke, or after
    // the deadline passed, process() before reading on.
    virtual int wait_descriptor() = 0;
    virtual void process() = 0;
    // When to call process() even if the descriptor did not wake (a journal
    // on a file system without inotify), on the steady clock; nullopt:
    // the descriptor is enough.
    virtual std::optional<std::chrono::steady_clock::time_point> deadline() = 0;
};

} // namespace exim_ban
