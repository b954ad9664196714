// RejectCopyFilter: Exim's two syslog copies of a line written to the
// mainlog and the reject log count once with syslog_duplication true and
// false, split copies included, and an honest repeat is never taken out.
#include "journal/reject_copy_filter.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace exim_ban;

namespace {

constexpr const char* info = "6";
constexpr const char* notice = "5";

const std::string auth_failure = "2026-12-07 14:01:05 dovecot_plain authenticator failed for "
                                 "(x) [192.0.2.7]: 535 Incorrect authentication data";

struct Journal {
    // Whether each entry is handed on, in order.
    std::vector<bool> read(const std::vector<JournalEntry>& entries) {
        std::vector<bool> handed;
        for (const auto& entry : entries)
            handed.push_back(!filter.is_reject_copy(entry));
        return handed;
    }
    RejectCopyFilter filter;
};

JournalEntry entry(const char* priority, std::string message, std::string pid = "4711",
                   std::uint64_t us = 1'796'652'065'000'000) {
    JournalEntry e;
    e.realtime_us = us;
    e.identifier = "exim";
    e.syslog_pid = std::move(pid);
    e.priority = priority;
    e.message = std::move(message);
    return e;
}

using Handed = std::vector<bool>;

} // namespace

TEST_CASE("with syslog_duplication true the reject copy after the main copy is taken out",
          "[journal][reject_copy]") {
    Journal journal;
    CHECK(journal.read({entry(info, auth_failure), entry(notice, auth_failure)}) ==
          Handed{true, false});
}

TEST_CASE("with syslog_duplication false the reject copy is the only one and is handed on",
          "[journal][reject_copy]") {
    Journal journal;
    CHECK(journal.read({entry(info, "2026-12-07 14:01:04 SMTP connection from [192.0.2.7]"),
                        entry(notice, auth_failure), entry(notice, auth_failure),
                        entry(notice, auth_failure)}) == Handed{true, true, true, true});
}

TEST_CASE("three failures with duplication true count three, each main copy handed on once",
          "[journal][reject_copy]") {
    Journal journal;
    std::vector<JournalEntry> entries;
    for (int i = 0; i < 3; ++i) {
        entries.push_back(entry(info, auth_failure));
        entries.push_back(entry(notice, auth_failure));
    }
    CHECK(journal.read(entries) == Handed{true, false, true, false, true, false});
}

TEST_CASE("a split reject copy with the message's headers is taken out with all its parts",
          "[journal][reject_copy]") {
    Journal journal;
    const std::string rejected =
        "2026-12-07 14:01:06 1vX-000 H=(x) [192.0.2.7] F=<a@b.example> rejected after DATA: spam";
    CHECK(journal.read({entry(info, rejected), entry(notice, "[1\\4] " + rejected),
                        entry(notice, "[2\\4] Envelope-from: <a@b.example>"),
                        entry(notice, "[3\\4] Envelope-to: <c@d.example>"),
                        entry(notice, "[4/4] P Received: from x"),
                        entry(info, "2026-12-07 14:01:06 1vX-000 next line")}) ==
          Handed{true, false, false, false, false, true});
}

TEST_CASE("a split reject copy alone (duplication false) is handed on, all its parts",
          "[journal][reject_copy]") {
    Journal journal;
    const std::string rejected = "2026-12-07 14:01:06 H=(x) [192.0.2.7] rejected after DATA";
    CHECK(journal.read(
              {entry(info, "2026-12-07 14:01:06 other"), entry(notice, "[1\\2] " + rejected),
               entry(notice, "[2/2] Envelope-from: <a@b.example>")}) == Handed{true, true, true});
}

TEST_CASE("a main copy split after 870 bytes is compared by its first part",
          "[journal][reject_copy]") {
    Journal journal;
    const std::string first(870, 'a');
    SECTION("the reject copy split the same way is taken out") {
        CHECK(journal.read({entry(info, "[1/2] " + first), entry(info, "[2/2] tail"),
                            entry(notice, "[1/3] " + first), entry(notice, "[2\\3] tail"),
                            entry(notice, "[3/3] Envelope-from: <a@b.example>")}) ==
              Handed{true, true, false, false, false});
    }
    SECTION("a whole line with the same text as the first part is another line") {
        CHECK(journal.read({entry(info, "[1/2] " + first), entry(info, "[2/2] tail"),
                            entry(notice, first)}) == Handed{true, true, true});
        CHECK(journal.read({entry(info, first), entry(notice, "[1/2] " + first),
                            entry(notice, "[2/2] tail")}) == Handed{true, true, true});
    }
}

TEST_CASE("a reject copy that repeats another line is handed on", "[journal][reject_copy]") {
    Journal journal;
    SECTION("another text") {
        CHECK(journal.read({entry(info, auth_failure), entry(notice, auth_failure + "x")}) ==
              Handed{true, true});
    }
    SECTION("not the entry right after the main copy") {
        CHECK(journal.read({entry(info, auth_failure), entry(notice, "other"),
                            entry(notice, auth_failure)}) == Handed{true, true, true});
    }
    SECTION("another process's main copy") {
        CHECK(journal.read({entry(info, auth_failure, "100"),
                            entry(notice, auth_failure, "200")}) == Handed{true, true});
    }
    SECTION("a main copy long before") {
        CHECK(journal.read({entry(info, auth_failure, "100", 1'000'000'000),
                            entry(notice, auth_failure, "100", 1'000'000'000 + 2'000'001)}) ==
              Handed{true, true});
    }
    SECTION("another priority than notice") {
        CHECK(journal.read({entry(info, auth_failure), entry("2", auth_failure)}) ==
              Handed{true, true});
    }
    SECTION("a further part that is not the one awaited") {
        CHECK(journal.read({entry(info, auth_failure), entry(notice, "[1\\3] " + auth_failure),
                            entry(notice, "[3/3] headers"), entry(notice, "[2\\3] headers")}) ==
              Handed{true, false, true, true});
    }
}

TEST_CASE("honest repeats are never taken out", "[journal][reject_copy]") {
    CHECK(Journal().read({entry(info, auth_failure), entry(info, auth_failure),
                          entry(info, auth_failure)}) == Handed{true, true, true});
    CHECK(Journal().read({entry(notice, auth_failure), entry(notice, auth_failure)}) ==
          Handed{true, true});
    CHECK(Journal().read({entry(info, auth_failure), entry(notice, auth_failure),
                          entry(notice, auth_failure)}) == Handed{true, false, true});
}

TEST_CASE("the copies of processes writing at once are told apart by pid",
          "[journal][reject_copy]") {
    Journal journal;
    const std::string other = auth_failure + " (set_id=bob)";
    CHECK(journal.read({entry(info, auth_failure, "100"), entry(info, other, "200"),
                        entry(notice, "[1\\2] " + other, "200"), entry(notice, auth_failure, "100"),
                        entry(notice, "[2/2] head", "200")}) ==
          Handed{true, true, false, false, false});
}

TEST_CASE("the pid is SYSLOG_PID, else _PID; an entry with neither is handed on",
          "[journal][reject_copy]") {
    Journal journal;
    auto by_pid = [](const char* priority) {
        JournalEntry e = entry(priority, auth_failure, "");
        e.pid = "4711";
        return e;
    };
    CHECK(journal.read({by_pid(info), by_pid(notice)}) == Handed{true, false});
    CHECK(journal.read({entry(info, auth_failure, ""), entry(notice, auth_failure, "")}) ==
          Handed{true, true});
}

TEST_CASE("at most max_pids processes are remembered, the one heard from longest ago forgotten",
          "[journal][reject_copy]") {
    RejectCopyFilter filter(RejectCopyFilter::Limits{2, 8192, 2'000'000});
    CHECK_FALSE(filter.is_reject_copy(entry(info, auth_failure, "1")));
    CHECK_FALSE(filter.is_reject_copy(entry(info, auth_failure, "2")));
    CHECK_FALSE(filter.is_reject_copy(entry(info, "x", "1")));          // 1 heard after 2
    CHECK_FALSE(filter.is_reject_copy(entry(info, auth_failure, "3"))); // 2 forgotten
    CHECK(filter.is_reject_copy(entry(notice, auth_failure, "3")));
    CHECK(filter.is_reject_copy(entry(notice, "x", "1")));
    CHECK_FALSE(filter.is_reject_copy(entry(notice, auth_failure, "2")));
}
