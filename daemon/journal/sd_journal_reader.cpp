#include "journal/sd_journal_reader.hpp"

#include <cstring>
#include <ctime>
#include <spdlog/spdlog.h>
#include <systemd/sd-journal.h>

namespace exim_ban {
namespace {

std::string error_text(int negative_errno) {
    return std::strerror(-negative_errno);
}

// A field's value (after "NAME="), empty when the entry has none.
void read_field(sd_journal* journal, const char* name, std::string& into) {
    const void* data = nullptr;
    std::size_t length = 0;
    into.clear();
    if (sd_journal_get_data(journal, name, &data, &length) < 0)
        return;
    const std::size_t prefix = std::strlen(name) + 1;
    if (length >= prefix)
        into.assign(static_cast<const char*>(data) + prefix, length - prefix);
}

} // namespace

SdJournalOpening SdJournalReader::open(const JournalMatch& match,
                                       const std::filesystem::path& directory) {
    sd_journal* journal = nullptr;
    const int opened = directory.empty()
                           ? sd_journal_open(&journal, SD_JOURNAL_LOCAL_ONLY)
                           : sd_journal_open_directory(&journal, directory.c_str(), 0);
    if (opened < 0)
        return {nullptr, "cannot open the journal" +
                             (directory.empty() ? std::string() : " in " + directory.string()) +
                             ": " + error_text(opened)};
    std::unique_ptr<SdJournalReader> reader(new SdJournalReader(journal));
    bool first = true;
    for (const auto& alternative : match.alternatives) {
        if (!first && sd_journal_add_disjunction(journal) < 0)
            return {nullptr, "cannot add the journal match " + match.text()};
        first = false;
        for (const auto& term : alternative) {
            if (const int added = sd_journal_add_match(journal, term.data(), term.size());
                added < 0)
                return {nullptr, "journal match " + term + ": " + error_text(added)};
        }
    }
    // sd-journal skips the files it may not read without a word: say it,
    // since a jail that reads nothing raises no other alarm.
    if (sd_journal_has_runtime_files(journal) <= 0 && sd_journal_has_persistent_files(journal) <= 0)
        spdlog::warn("journal{}: no journal file can be read (yet); the daemon's user reads the "
                     "journal through group systemd-journal or adm",
                     directory.empty() ? std::string() : " in " + directory.string());
    reader->descriptor_ = sd_journal_get_fd(journal);
    if (reader->descriptor_ < 0)
        return {nullptr, "cannot watch the journal: " + error_text(reader->descriptor_)};
    return {std::move(reader), {}};
}

SdJournalReader::SdJournalReader(sd_journal* journal)
    : journal_(journal) {}

SdJournalReader::~SdJournalReader() {
    sd_journal_close(journal_);
}

void SdJournalReader::seek_head() {
    sd_journal_seek_head(journal_);
}

bool SdJournalReader::seek_cursor(const std::string& cursor) {
    if (sd_journal_seek_cursor(journal_, cursor.c_str()) >= 0)
        return true;
    sd_journal_seek_head(journal_);
    return false;
}

JournalReader::Step SdJournalReader::next() {
    const int moved = sd_journal_next(journal_);
    if (moved < 0) {
        if (!read_failed_)
            spdlog::error("journal: cannot read on: {}", error_text(moved));
        read_failed_ = true;
        return Step::failed;
    }
    read_failed_ = false;
    return moved > 0 ? Step::entry : Step::end;
}

void SdJournalReader::entry(JournalEntry& into) {
    std::uint64_t realtime = 0;
    into.realtime_us = sd_journal_get_realtime_usec(journal_, &realtime) >= 0 ? realtime : 0;
    read_field(journal_, "_HOSTNAME", into.hostname);
    read_field(journal_, "SYSLOG_IDENTIFIER", into.identifier);
    read_field(journal_, "_COMM", into.command);
    read_field(journal_, "SYSLOG_PID", into.syslog_pid);
    read_field(journal_, "_PID", into.pid);
    read_field(journal_, "MESSAGE", into.message);
    read_field(journal_, "PRIORITY", into.priority);
}

std::string SdJournalReader::cursor() {
    char* cursor = nullptr;
    if (sd_journal_get_cursor(journal_, &cursor) < 0)
        return {};
    std::string copy(cursor);
    std::free(cursor);
    return copy;
}

bool SdJournalReader::at_cursor(const std::string& cursor) {
    return sd_journal_test_cursor(journal_, cursor.c_str()) > 0;
}

int SdJournalReader::wait_descriptor() {
    return descriptor_;
}

void SdJournalReader::process() {
    sd_journal_process(journal_);
}

std::optional<std::chrono::steady_clock::time_point> SdJournalReader::deadline() {
    std::uint64_t when = 0;
    if (sd_journal_get_timeout(journal_, &when) < 0 || when == UINT64_MAX)
        return std::nullopt;
    // sd-journal's deadline is on CLOCK_MONOTONIC, which is the steady clock's.
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    const auto now_us = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000 +
                        static_cast<std::uint64_t>(now.tv_nsec) / 1000;
    const auto wait = std::chrono::microseconds(when > now_us ? when - now_us : 0);
    return std::chrono::steady_clock::now() + wait;
}

} // namespace exim_ban
