// A JournalReader for tests of the JournalSource: entries in memory, each
// with a cursor "c<seq>"; entries can be appended (waking the source through
// an eventfd, as new journal files wake sd-journal's inotify) and dropped
// from the front (as a vacuum does).
#pragma once

#include "core/unique_fd.hpp"
#include "journal/journal_reader.hpp"

#include <cstdint>
#include <deque>
#include <string>
#include <sys/eventfd.h>
#include <unistd.h>

namespace exim_ban::testing {

class FakeJournalReader final : public JournalReader {
  public:
    FakeJournalReader()
        : wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

    // An entry whose MESSAGE is `message` (and PRIORITY `priority`), with
    // the next sequence number.
    void append(const std::string& message, const std::string& priority = {}) {
        JournalEntry entry;
        entry.realtime_us = 1'796'652'065'000'000 + next_seq_;
        entry.hostname = "mx1";
        entry.identifier = "exim";
        entry.syslog_pid = "4711";
        entry.message = message;
        entry.priority = priority;
        entries_.push_back({next_seq_++, std::move(entry)});
        const std::uint64_t one = 1;
        (void)!::write(wake_.get(), &one, sizeof one);
    }
    // Drops the oldest `count` entries.
    void vacuum(std::size_t count) {
        for (; count > 0 && !entries_.empty(); --count) {
            entries_.pop_front();
            if (at_ >= 0)
                --at_;
        }
    }
    static std::string cursor_of(std::uint64_t seq) { return "c" + std::to_string(seq); }

    void seek_head() override { at_ = -1; }
    bool seek_cursor(const std::string& cursor) override {
        if (cursor.size() < 2 || cursor[0] != 'c') {
            at_ = -1;
            return false;
        }
        const std::uint64_t seq = std::stoull(cursor.substr(1));
        at_ = -1;
        while (at_ + 1 < static_cast<long>(entries_.size()) && entries_[at_ + 1].seq < seq)
            ++at_;
        return true;
    }
    Step next() override {
        ++nexts;
        if (at_ + 1 >= static_cast<long>(entries_.size()))
            return Step::end;
        ++at_;
        return Step::entry;
    }
    void entry(JournalEntry& into) override { into = current().entry; }
    std::string cursor() override { return cursor_of(current().seq); }
    bool at_cursor(const std::string& cursor) override { return cursor == this->cursor(); }
    int wait_descriptor() override { return wake_.get(); }
    void process() override {
        std::uint64_t count = 0;
        (void)!::read(wake_.get(), &count, sizeof count);
    }
    std::optional<std::chrono::steady_clock::time_point> deadline() override {
        return std::nullopt;
    }

    std::size_t nexts = 0;

  private:
    struct Stored {
        std::uint64_t seq;
        JournalEntry entry;
    };
    const Stored& current() const { return entries_.at(static_cast<std::size_t>(at_)); }

    UniqueFd wake_;
    std::deque<Stored> entries_;
    std::uint64_t next_seq_ = 1;
    long at_ = -1; // index of the entry at the pointer; -1: before the first
};

} // namespace exim_ban::testing
