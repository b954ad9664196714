#include "core/syslog_joiner.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

using namespace exim_ban;

namespace {

SyslogSender process(std::uint32_t pid, std::string_view host = "mx1") {
    return {host, "exim", pid};
}

LogTime at_ms(std::int64_t ms) {
    return LogTime{ms / 1000, static_cast<std::int32_t>(ms % 1000), std::nullopt};
}

SyslogPart part(unsigned index, unsigned total, bool ends_line = false) {
    return {index, total, ends_line};
}

// The joined text, or "(waits)".
std::string joined(const std::optional<SyslogJoiner::Joined>& result) {
    return result ? std::string(result->text) : "(waits)";
}

} // namespace

TEST_CASE("the parts of a long entry join into its line", "[syslog_joiner]") {
    SyslogJoiner joiner;
    CHECK(joined(joiner.add(process(7), part(1, 3), "H=(x) [192.0.2.1]: 535 Incorrect au",
                            at_ms(1000))) == "(waits)");
    CHECK(joiner.waiting());
    CHECK(joined(joiner.add(process(7), part(2, 3), "thentication data (set_id=a", at_ms(1000))) ==
          "(waits)");
    const auto entry = joiner.add(process(7), part(3, 3), "dmin)", at_ms(1001));
    CHECK(joined(entry) == "H=(x) [192.0.2.1]: 535 Incorrect authentication data (set_id=admin)");
    CHECK(entry->time == at_ms(1000)); // the first part's
    CHECK_FALSE(joiner.waiting());
    CHECK(joiner.take_dropped() == 0);
}

TEST_CASE("an entry with a newline gives its first line; the rest is never matched",
          "[syslog_joiner]") {
    SyslogJoiner joiner;
    CHECK(joined(joiner.add(process(7), part(1, 3, true), "Warning: purging the environment.",
                            at_ms(0))) == "Warning: purging the environment.");
    // The next lines (in the reject log's copy: the message's headers, client
    // text) are consumed, never given out.
    CHECK(joined(joiner.add(process(7), part(2, 3, true), " H=(x) [198.51.100.1]: 535 x",
                            at_ms(0))) == "(waits)");
    CHECK(joiner.waiting());
    CHECK(joined(joiner.add(process(7), part(3, 3), " last", at_ms(0))) == "(waits)");
    CHECK_FALSE(joiner.waiting());
    // Cut at 870 bytes, then a newline: the first line is both parts.
    CHECK(joined(joiner.add(process(8), part(1, 3), "aaa", at_ms(0))) == "(waits)");
    CHECK(joined(joiner.add(process(8), part(2, 3, true), "bbb", at_ms(0))) == "aaabbb");
    CHECK(joined(joiner.add(process(8), part(3, 3), "ccc", at_ms(0))) == "(waits)");
    CHECK(joiner.take_dropped() == 0);
}

TEST_CASE("processes' parts cross without mixing", "[syslog_joiner]") {
    SyslogJoiner joiner;
    joiner.add(process(1), part(1, 2), "one ", at_ms(0));
    joiner.add(process(2), part(1, 2), "two ", at_ms(0));
    joiner.add(process(1, "mx2"), part(1, 2), "other host ", at_ms(0));
    joiner.other_line(process(3), at_ms(0));
    CHECK(joined(joiner.add(process(2), part(2, 2), "end", at_ms(0))) == "two end");
    CHECK(joined(joiner.add(process(1), part(2, 2), "end", at_ms(0))) == "one end");
    CHECK(joined(joiner.add(process(1, "mx2"), part(2, 2), "end", at_ms(0))) == "other host end");
    CHECK(joiner.take_dropped() == 0);
}

TEST_CASE("a part after a lost one is never glued to another entry", "[syslog_joiner]") {
    // Each case ends with a part that must join nothing: what it carries
    // ("the middle of an entry": client text) is never given out.
    struct Step {
        std::optional<std::uint32_t> pid; // nullopt: the tag named none
        unsigned index = 0;               // 0: a whole line, no part
        unsigned total = 0;
        std::int64_t ms = 0;
    };
    struct Case {
        const char* what;
        std::vector<Step> steps;
        std::uint64_t dropped;
    };
    const std::vector<Case> cases = {
        {"the next entry's part 2 after its lost part 1, the last one's part 3 lost",
         {{1, 1, 3, 0}, {1, 2, 3, 0}, {1, 1, 2, 0}, {1, 3, 3, 0}},
         4},
        {"a part that is not the one awaited", {{1, 1, 3, 0}, {1, 3, 3, 0}}, 2},
        {"another total is another entry", {{1, 1, 3, 0}, {1, 2, 2, 0}}, 2},
        {"a whole line of the process in between", {{1, 1, 2, 0}, {1, 0, 0, 0}, {1, 2, 2, 0}}, 2},
        {"nothing before it", {{1, 2, 2, 0}}, 1},
        {"too late: Exim sends an entry's parts at once", {{1, 1, 2, 0}, {1, 2, 2, 2001}}, 2},
        {"another process's line past the gap",
         {{1, 1, 2, 0}, {2, 0, 0, 2500}, {1, 2, 2, 2600}},
         2},
        {"no pid: processes cannot be told apart",
         {{std::nullopt, 1, 2, 0}, {std::nullopt, 2, 2, 0}},
         2},
    };
    for (const Case& c : cases) {
        INFO(c.what);
        SyslogJoiner joiner;
        std::optional<SyslogJoiner::Joined> last;
        for (const Step& step : c.steps) {
            const SyslogSender sender{"mx1", "exim", step.pid};
            if (step.index == 0)
                joiner.other_line(sender, at_ms(step.ms));
            else
                last = joiner.add(sender, part(step.index, step.total),
                                  "2026-12-07 14:01:05 H=(x) [10.9.9.9]", at_ms(step.ms));
        }
        CHECK_FALSE(last);
        CHECK(joiner.take_dropped() == c.dropped);
        CHECK_FALSE(joiner.waiting());
    }
}

TEST_CASE("the first part of the next entry drops the unfinished one", "[syslog_joiner]") {
    SyslogJoiner joiner;
    joiner.add(process(1), part(1, 3), "A1 ", at_ms(0));
    joiner.add(process(1), part(2, 3), "A2 ", at_ms(0));
    joiner.add(process(1), part(1, 2), "B1 ", at_ms(0)); // A3 lost
    CHECK(joiner.take_dropped() == 2);
    CHECK(joined(joiner.add(process(1), part(2, 2), "B2", at_ms(0))) == "B1 B2");
    joiner.add(process(1), part(1, 2), "C1 ", at_ms(0));
    joiner.other_line(process(2), at_ms(1500)); // within the gap: it still waits
    CHECK(joiner.waiting());
    joiner.finish(); // the end of the log
    CHECK(joiner.take_dropped() == 1);
    CHECK_FALSE(joiner.waiting());
}

TEST_CASE("memory is bounded: entries waiting and the length of a first line", "[syslog_joiner]") {
    SyslogJoiner joiner(SyslogJoiner::Limits{.max_waiting = 2, .max_first_line = 10});
    joiner.add(process(1), part(1, 2), "a", at_ms(0));
    joiner.add(process(2), part(1, 2), "b", at_ms(1));
    joiner.add(process(3), part(1, 2), "c", at_ms(2)); // the oldest, process 1's, goes
    CHECK(joiner.take_dropped() == 1);
    CHECK(joined(joiner.add(process(1), part(2, 2), "A", at_ms(3))) == "(waits)");
    CHECK(joined(joiner.add(process(2), part(2, 2), "B", at_ms(3))) == "bB");
    CHECK(joined(joiner.add(process(3), part(2, 2), "C", at_ms(3))) == "cC");
    CHECK(joiner.take_dropped() == 1);

    joiner.add(process(4), part(1, 2), "123456", at_ms(4));
    CHECK(joined(joiner.add(process(4), part(2, 2), "78901", at_ms(4))) == "(waits)");
    CHECK(joiner.take_dropped() == 2);
    CHECK_FALSE(joiner.waiting());
}
