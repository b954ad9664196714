// The JournalSource on a fake journal, driven by a real io_context: where
// it starts (no cursor, a cursor, a vacuumed cursor), its positions, pause
// and resume, following entries as they are appended, and Exim's reject
// copies left out. Nothing sleeps.
#include "journal/journal_source.hpp"
#include "support/fake_journal_reader.hpp"
#include "support/recording_sink.hpp"
#include "support/run_until.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>

using namespace exim_ban;
using exim_ban::testing::FakeJournalReader;
using exim_ban::testing::RecordingSink;
using exim_ban::testing::run_until;

namespace {

const std::string name = "journal:SYSLOG_IDENTIFIER=exim";

struct Rig {
    explicit Rig(std::string cursor = {}, std::size_t entries = 3) {
        auto owned = std::make_unique<FakeJournalReader>();
        reader = owned.get();
        for (std::size_t i = 1; i <= entries; ++i)
            reader->append("m" + std::to_string(i));
        LogPosition resume;
        resume.path = name;
        resume.cursor = std::move(cursor);
        source = std::make_unique<JournalSource>(io, std::move(owned), 7, name, resume, sink);
    }
    std::vector<std::string> messages() const {
        std::vector<std::string> got;
        for (const auto& line : sink.lines_of(7))
            got.push_back(line.substr(line.find(": ") + 2));
        return got;
    }
    bool caught_up_after(std::size_t lines) {
        return run_until(io, [&] { return sink.received.size() == lines && sink.idle; });
    }
    // Started, it hands nothing on, then only the entry appended next.
    void expect_only_the_next_entry() {
        source->start();
        REQUIRE(run_until(io, [&] { return sink.caught_up == 1; }));
        CHECK(sink.received.empty());
        reader->append("next");
        REQUIRE(caught_up_after(1));
        CHECK(messages() == std::vector<std::string>{"next"});
    }

    boost::asio::io_context io;
    RecordingSink sink;
    FakeJournalReader* reader = nullptr;
    std::unique_ptr<JournalSource> source;
};

using Messages = std::vector<std::string>;

} // namespace

TEST_CASE("with no cursor committed the journal is read from its oldest entry, as a new file "
          "from its first byte",
          "[journal]") {
    Rig rig;
    CHECK(rig.source->positions().front().cursor.empty());
    rig.source->start();
    REQUIRE(rig.caught_up_after(3));
    CHECK(rig.messages() == Messages{"m1", "m2", "m3"});
    CHECK(rig.sink.received.front().line == "2026-12-07T14:01:05.000001+00:00 mx1 exim[4711]: m1");
    CHECK(rig.sink.caught_up == 1);
    const auto positions = rig.source->positions();
    REQUIRE(positions.size() == 1);
    CHECK(positions[0].path == name);
    CHECK(positions[0].cursor == FakeJournalReader::cursor_of(3));
}

TEST_CASE("an empty journal still says it is caught up once", "[journal]") {
    Rig rig({}, 0);
    rig.source->start();
    REQUIRE(run_until(rig.io, [&] { return rig.sink.caught_up == 1; }));
    CHECK(rig.sink.received.empty());
}

TEST_CASE("a committed cursor resumes after its entry, which is not handed on again", "[journal]") {
    Rig rig(FakeJournalReader::cursor_of(2));
    CHECK(rig.source->positions().front().cursor == FakeJournalReader::cursor_of(2));
    rig.source->start();
    REQUIRE(rig.caught_up_after(1));
    CHECK(rig.messages() == Messages{"m3"});
}

TEST_CASE("a cursor at the newest entry hands nothing on until a new entry comes", "[journal]") {
    Rig rig(FakeJournalReader::cursor_of(3));
    rig.expect_only_the_next_entry();
    CHECK(rig.source->positions().front().cursor == FakeJournalReader::cursor_of(4));
}

TEST_CASE("a cursor whose entry was vacuumed away resumes at the oldest entry after it",
          "[journal]") {
    Rig rig(FakeJournalReader::cursor_of(2), 5);
    rig.reader->vacuum(3); // m1..m3 gone: the cursor's m2 with them
    rig.source->start();
    REQUIRE(rig.caught_up_after(2));
    CHECK(rig.messages() == Messages{"m4", "m5"});
}

TEST_CASE("a cursor vacuumed away with everything after it resumes at the next entry written",
          "[journal]") {
    Rig rig(FakeJournalReader::cursor_of(2), 2);
    rig.reader->vacuum(2);
    rig.expect_only_the_next_entry();
}

TEST_CASE("a cursor the journal cannot read starts at the oldest entry", "[journal]") {
    Rig rig("not a cursor");
    rig.source->start();
    REQUIRE(rig.caught_up_after(3));
    CHECK(rig.messages() == Messages{"m1", "m2", "m3"});
}

TEST_CASE("the position is past a line when the sink hears it, and pause from on_line stops "
          "after it until resume",
          "[journal]") {
    Rig rig;
    std::vector<std::string> cursors_seen;
    rig.sink.after_line = [&](const auto&) {
        cursors_seen.push_back(rig.source->positions().front().cursor);
        if (rig.sink.received.size() == 1)
            rig.source->pause();
    };
    rig.source->start();
    REQUIRE(run_until(rig.io, [&] { return rig.sink.received.size() == 1; }));
    rig.io.poll();
    CHECK(rig.sink.received.size() == 1);
    CHECK(rig.sink.caught_up == 0); // not while paused
    rig.reader->append("m4");
    rig.io.poll();
    CHECK(rig.sink.received.size() == 1);

    rig.source->resume();
    REQUIRE(rig.caught_up_after(4));
    CHECK(rig.messages() == Messages{"m1", "m2", "m3", "m4"});
    CHECK(cursors_seen == Messages{"c1", "c2", "c3", "c4"});
}

TEST_CASE("Exim's reject copy of the line its process just sent is not handed on, yet is the "
          "position",
          "[journal]") {
    Rig rig({}, 0);
    rig.reader->append("authenticator failed", "6");
    rig.reader->append("authenticator failed", "5");
    rig.source->start();
    REQUIRE(rig.caught_up_after(1));
    CHECK(rig.messages() == Messages{"authenticator failed"});
    CHECK(rig.source->positions().front().cursor == FakeJournalReader::cursor_of(2));
}

TEST_CASE("resumed at the main copy's cursor, the reject copy after it is still known for one",
          "[journal]") {
    Rig rig(FakeJournalReader::cursor_of(1), 0);
    rig.reader->append("authenticator failed", "6");
    rig.reader->append("authenticator failed", "5");
    rig.reader->append("next", "6");
    rig.source->start();
    REQUIRE(rig.caught_up_after(1));
    CHECK(rig.messages() == Messages{"next"});
}

TEST_CASE("entries appended while following are handed on as they come, once", "[journal]") {
    Rig rig;
    rig.source->start();
    REQUIRE(rig.caught_up_after(3));
    for (int burst = 0; burst < 3; ++burst) {
        rig.reader->append("b" + std::to_string(burst) + "a");
        rig.reader->append("b" + std::to_string(burst) + "b");
        REQUIRE(rig.caught_up_after(5 + 2 * static_cast<std::size_t>(burst)));
    }
    CHECK(rig.messages() == Messages{"m1", "m2", "m3", "b0a", "b0b", "b1a", "b1b", "b2a", "b2b"});
    CHECK(rig.sink.caught_up == 4);
}

TEST_CASE("a stopped journal source hands nothing on", "[journal]") {
    Rig rig;
    rig.source->start();
    REQUIRE(rig.caught_up_after(3));
    rig.source->stop();
    rig.reader->append("m4");
    rig.io.poll();
    CHECK(rig.sink.received.size() == 3);
}

TEST_CASE("a long backlog yields to the io_context between turns", "[journal]") {
    Rig rig({}, 10'000);
    bool other_ran_midway = false;
    rig.sink.after_line = [&](const auto&) {
        if (rig.sink.received.size() == 5000)
            boost::asio::post(rig.io,
                              [&] { other_ran_midway = rig.sink.received.size() < 10'000; });
    };
    rig.source->start();
    REQUIRE(rig.caught_up_after(10'000));
    CHECK(other_ran_midway);
}
