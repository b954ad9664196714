// The JournalReader on libsystemd's sd-journal: the local system journal, or
// the journal files of one directory (for tests and containers whose
// journal is not the host's).
#pragma once

#include "core/journal_match.hpp"
#include "journal/journal_reader.hpp"

#include <filesystem>
#include <memory>
#include <string>

struct sd_journal;

namespace exim_ban {

class SdJournalReader;

// A reader, or why the journal cannot be read.
struct SdJournalOpening {
    std::unique_ptr<SdJournalReader> reader; // null: see error
    std::string error;
};

class SdJournalReader final : public JournalReader {
  public:
    // `directory` empty: the local system journal (every file the daemon's
    // user may read: its group systemd-journal or adm). The reader selects
    // the entries of `match`.
    static SdJournalOpening open(const JournalMatch& match, const std::filesystem::path& directory);
    ~SdJournalReader() override;
    SdJournalReader(const SdJournalReader&) = delete;
    SdJournalReader& operator=(const SdJournalReader&) = delete;

    void seek_head() override;
    bool seek_cursor(const std::string& cursor) override;
    Step next() override;
    void entry(JournalEntry& into) override;
    std::string cursor() override;
    bool at_cursor(const std::string& cursor) override;
    int wait_descriptor() override;
    void process() override;
    std::optional<std::chrono::steady_clock::time_point> deadline() override;

  private:
    explicit SdJournalReader(sd_journal* journal);
    sd_journal* journal_;
    int descriptor_ = -1;
    bool read_failed_ = false; // logged once until a read works again
};

} // namespace exim_ban
