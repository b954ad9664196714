#include "core/line_splitter.hpp"
#include "journal/journal_line.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

namespace {

JournalEntry exim_entry(std::string message) {
    JournalEntry entry;
    entry.realtime_us = 1'796'652'065'123'456; // 2026-12-07T14:01:05.123456Z
    entry.hostname = "mx1";
    entry.identifier = "exim";
    entry.command = "exim4";
    entry.syslog_pid = "4711";
    entry.pid = "4712";
    entry.message = std::move(message);
    return entry;
}

std::string line_of(const JournalEntry& entry, bool* cut = nullptr) {
    std::string line = "old content";
    const bool was_cut = format_journal_line(entry, line);
    if (cut != nullptr)
        *cut = was_cut;
    return line;
}

} // namespace

TEST_CASE("a journal entry becomes an RFC 3339 syslog line in UTC", "[journal]") {
    bool cut = true;
    CHECK(line_of(exim_entry("2026-12-07 14:01:05 H=(x) [192.0.2.7] F=<a@b> rejected RCPT"),
                  &cut) == "2026-12-07T14:01:05.123456+00:00 mx1 exim[4711]: 2026-12-07 14:01:05 "
                           "H=(x) [192.0.2.7] F=<a@b> rejected RCPT");
    CHECK_FALSE(cut);

    JournalEntry early = exim_entry("m");
    early.realtime_us = 5; // the epoch's first microseconds
    CHECK(line_of(early) == "1970-01-01T00:00:00.000005+00:00 mx1 exim[4711]: m");
}

TEST_CASE("a journal entry's missing fields fall back as fail2ban's journal reader does",
          "[journal]") {
    JournalEntry entry = exim_entry("m");
    entry.syslog_pid.clear();
    CHECK(line_of(entry) == "2026-12-07T14:01:05.123456+00:00 mx1 exim[4712]: m");
    entry.pid.clear();
    CHECK(line_of(entry) == "2026-12-07T14:01:05.123456+00:00 mx1 exim: m");
    entry.identifier.clear();
    CHECK(line_of(entry) == "2026-12-07T14:01:05.123456+00:00 mx1 exim4: m");
    entry.command.clear();
    entry.hostname.clear();
    CHECK(line_of(entry) == "2026-12-07T14:01:05.123456+00:00 localhost -: m");
}

TEST_CASE("a MESSAGE with a newline inside is cut before it, so client text after it never "
          "makes a hit",
          "[journal]") {
    bool cut = false;
    const std::string line = line_of(
        exim_entry("SMTP protocol error in \"AUTH x\"\n2026-12-07 14:01:05 H=(x) [192.0.2.66] "
                   "AUTH command used when not advertised"),
        &cut);
    CHECK(cut);
    CHECK(line == "2026-12-07T14:01:05.123456+00:00 mx1 exim[4711]: SMTP protocol error in "
                  "\"AUTH x\"");

    // Newlines ending it are no such thing: the line is whole.
    CHECK(line_of(exim_entry("2026-12-07 14:01:05 done\n\n"), &cut) ==
          "2026-12-07T14:01:05.123456+00:00 mx1 exim[4711]: 2026-12-07 14:01:05 done");
    CHECK_FALSE(cut);
}

TEST_CASE("a MESSAGE's bytes are handed on as they are, a long one cut at max_line_bytes",
          "[journal]") {
    const std::string binary("\xff\xfe\0\x01 not UTF-8", 14);
    bool cut = true;
    CHECK(line_of(exim_entry(binary), &cut) ==
          "2026-12-07T14:01:05.123456+00:00 mx1 exim[4711]: " + binary);
    CHECK_FALSE(cut);

    const std::string line = line_of(exim_entry(std::string(max_line_bytes, 'x')), &cut);
    CHECK(cut);
    CHECK(line.size() == max_line_bytes);
}
