// The Tailer on real files in a temporary directory with real inotify,
// driven by a real io_context. Every test checks that the lines received
// are the lines written, each once, in order, and that positions() names the
// right file and offset. Nothing sleeps: the io_context runs until a
// condition holds, and a condition that does not hold within 5 s fails.
#include "core/line_splitter.hpp"
#include "support/recording_sink.hpp"
#include "support/run_until.hpp"
#include "support/temp_dir.hpp"
#include "tail/file_identity.hpp"
#include "tail/tailer.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace exim_ban;
using exim_ban::testing::Received;
using exim_ban::testing::RecordingSink;
namespace fs = std::filesystem;

namespace {

void append(const fs::path& path, const std::string& text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    REQUIRE(::close(fd) == 0);
}

std::string read_all(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// "<prefix> 1\n<prefix> 2\n..." and the same lines without their '\n'.
struct Lines {
    std::string text;
    std::vector<std::string> lines;
};

Lines numbered(const std::string& prefix, int count) {
    Lines made;
    for (int i = 1; i <= count; ++i) {
        made.lines.push_back("2024-05-01 10:00:00 " + prefix + " " + std::to_string(i));
        made.text += made.lines.back() + "\n";
    }
    return made;
}

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

class TailTest {
  public:
    fs::path log(const std::string& name = "mainlog") const { return dir / name; }

    void start(std::vector<fs::path> paths, const std::vector<LogPosition>& resume = {}) {
        std::vector<std::string> names;
        for (const auto& path : paths)
            names.push_back(path.string());
        TailerOpening opened = Tailer::open(io, names, resume, sink);
        INFO(opened.error);
        REQUIRE(opened.tailer);
        tailer = std::move(opened.tailer);
        tailer->start();
    }

    // Runs the io_context until `done` holds; false after 5 s.
    bool run_until(const std::function<bool()>& done) {
        return exim_ban::testing::run_until(io, done);
    }

    // Runs whatever is ready now: the events of what the test just did.
    bool drain() {
        return run_until([&] { return io.poll() == 0; });
    }

    // Until `count` lines arrived in all and the tailer said it caught up.
    bool receive(std::size_t count) {
        return run_until([&] { return sink.received.size() >= count && sink.idle; });
    }

    // Appends a last line to `path` and waits for it: inotify reports in
    // order, so whatever earlier events would still hand on (a duplicate, a
    // line out of order) has come by then.
    std::string settle(const fs::path& path, std::size_t log_index = 0) {
        const std::string marker = "2024-05-01 10:59:59 marker " + std::to_string(++markers_);
        append(path, marker + "\n");
        const bool arrived = run_until([&] {
            return sink.idle && !sink.received.empty() && sink.received.back().line == marker &&
                   sink.received.back().log == log_index;
        });
        CHECK(arrived);
        return marker;
    }

    // Writes `count` numbered lines to the mainlog, follows it from the
    // start and waits for them.
    Lines follow_written(const std::string& prefix, int count) {
        Lines written = numbered(prefix, count);
        append(log(), written.text);
        start({log()});
        REQUIRE(receive(written.lines.size()));
        return written;
    }

    // After a settle() of the first log (the mainlog unless named): it
    // handed on `expected`, then the marker, each once and in order, and its
    // position is at its end. Returns the marker.
    std::string check_read_exactly(const std::vector<std::string>& expected) {
        return check_read_exactly(expected, log());
    }
    std::string check_read_exactly(const std::vector<std::string>& expected, const fs::path& path) {
        const std::string marker = settle(path);
        CHECK(sink.lines_of(0) == expected + std::vector<std::string>{marker});
        check_position_at_end(path);
        return marker;
    }

    // positions()[log_index] names the file at `path` and its end.
    void check_position_at_end(const fs::path& path, std::size_t log_index = 0) const {
        const LogPosition position = tailer->positions().at(log_index);
        struct stat status {};
        REQUIRE(::stat(path.c_str(), &status) == 0);
        const std::string content = read_all(path);
        CHECK(position.path == path.string());
        CHECK(position.device == status.st_dev);
        CHECK(position.inode == status.st_ino);
        CHECK(position.offset == content.size());
        CHECK(position.head_hash == to_string(hash_head(content.substr(0, head_hash_bytes))));
    }

    exim_ban::testing::TempDir dir;
    boost::asio::io_context io;
    RecordingSink sink;
    std::unique_ptr<Tailer> tailer; // declared last: goes before the io_context and the sink

  private:
    int markers_ = 0;
};

} // namespace

TEST_CASE("tailer: appended lines arrive once and in order and a partial line waits", "[tail]") {
    TailTest test;
    const Lines backlog = test.follow_written("backlog", 3);
    CHECK(test.sink.caught_up == 1);

    const Lines burst = numbered("burst", 100);
    append(test.log(), burst.text + "2024-05-01 10:00:01 part");
    REQUIRE(test.receive(103));
    CHECK(test.sink.caught_up == 2);
    CHECK(test.sink.lines_of(0) == backlog.lines + burst.lines);
    // The partial line is not past the position: a restart reads it again.
    CHECK(test.tailer->positions()[0].offset == backlog.text.size() + burst.text.size());

    append(test.log(), "ial line\n");
    REQUIRE(test.receive(104));
    CHECK(test.sink.received.back().line == "2024-05-01 10:00:01 partial line");
    const std::string marker = test.settle(test.log());
    CHECK(test.sink.lines_of(0) ==
          backlog.lines + burst.lines +
              std::vector<std::string>{"2024-05-01 10:00:01 partial line", marker});
    test.check_position_at_end(test.log());
    const TailStats stats = test.tailer->stats();
    CHECK(stats.lines == 105);
    CHECK(stats.bytes == read_all(test.log()).size());
    CHECK(stats.rotations == 0);
    CHECK(stats.read_errors == 0);
}

TEST_CASE("tailer: rename and create as logrotate and exicyclog do", "[tail]") {
    TailTest test;
    const Lines first = numbered("first", 5);
    const Lines other = numbered("rejectlog", 2);
    append(test.log(), first.text);
    append(test.log("rejectlog"), other.text);
    test.start({test.log(), test.log("rejectlog")});
    REQUIRE(test.receive(7));

    // exicyclog: mainlog.01 -> mainlog.02, mainlog -> mainlog.01.
    append(test.log("mainlog.01"), "an older period\n");
    fs::rename(test.log("mainlog.01"), test.log("mainlog.02"));
    fs::rename(test.log(), test.log("mainlog.01"));
    const Lines late = numbered("late", 2);
    const Lines second = numbered("second", 4);
    SECTION("the tailer looks while the path is missing") {
        REQUIRE(test.drain());
        // Exim processes that have the old file open write on to it.
        append(test.log("mainlog.01"), late.text);
        REQUIRE(test.receive(9));
        append(test.log(), second.text);
    }
    SECTION("the tailer looks after all of it") {
        append(test.log("mainlog.01"), late.text);
        append(test.log(), second.text);
    }
    REQUIRE(test.receive(13));
    const std::string marker = test.settle(test.log());
    CHECK(test.sink.lines_of(0) ==
          first.lines + late.lines + second.lines + std::vector<std::string>{marker});
    CHECK(test.tailer->stats().rotations == 1);
    test.check_position_at_end(test.log());

    // The other log in the same directory is still followed.
    const std::string other_marker = test.settle(test.log("rejectlog"), 1);
    CHECK(test.sink.lines_of(1) == other.lines + std::vector<std::string>{other_marker});
    test.check_position_at_end(test.log("rejectlog"), 1);
}

TEST_CASE("tailer: copytruncate with lines written before the truncation unread", "[tail]") {
    TailTest test;
    const Lines first = test.follow_written("first", 5);

    const Lines unread = numbered("unread", 3);
    const Lines after = numbered("after", 2);
    append(test.log(), unread.text);
    fs::copy_file(test.log(), test.log("mainlog.1"));
    fs::resize_file(test.log(), 0);
    append(test.log(), after.text);
    REQUIRE(test.receive(10));
    test.check_read_exactly(first.lines + unread.lines + after.lines);
    CHECK(test.tailer->stats().truncations == 1);
    CHECK(test.tailer->stats().rotations == 0);
}

TEST_CASE("tailer: truncate in place", "[tail]") {
    TailTest test;
    const Lines first = test.follow_written("first", 5);

    Lines again;
    SECTION("the new content is shorter than what was read") {
        fs::resize_file(test.log(), 0);
        again = numbered("again", 1);
    }
    SECTION("the new content is longer before the tailer looks: the head tells") {
        fs::resize_file(test.log(), 0);
        again = numbered("rewritten", 20);
    }
    SECTION("the tailer sees it empty first") {
        fs::resize_file(test.log(), 0);
        REQUIRE(test.run_until([&] { return test.tailer->stats().truncations == 1; }));
        again = numbered("again", 3);
    }
    append(test.log(), again.text);
    REQUIRE(test.receive(5 + again.lines.size()));
    test.check_read_exactly(first.lines + again.lines);
    CHECK(test.tailer->stats().truncations == 1);
}

TEST_CASE("tailer: delete and re-create", "[tail]") {
    TailTest test;
    const Lines first = test.follow_written("first", 4);

    fs::remove(test.log());
    const Lines second = numbered("second", 3);
    SECTION("the tailer looks while it is missing") {
        REQUIRE(test.drain());
        // Read to its end and deleted: let go, and no file is named.
        CHECK(test.tailer->positions()[0].head_hash.empty());
        CHECK(test.tailer->positions()[0].offset == 0);
        append(test.log(), second.text);
    }
    SECTION("the tailer looks after both") {
        append(test.log(), second.text);
    }
    REQUIRE(test.receive(7));
    test.check_read_exactly(first.lines + second.lines);
    CHECK(test.tailer->stats().rotations == 1);
}

TEST_CASE("tailer: a log that does not exist at start", "[tail]") {
    TailTest test;
    test.start({test.log()});
    REQUIRE(test.run_until([&] { return test.sink.caught_up == 1; }));
    CHECK(test.tailer->positions()[0].path == test.log().string());
    CHECK(test.tailer->positions()[0].offset == 0);

    const Lines lines = numbered("new", 3);
    append(test.log(), lines.text);
    REQUIRE(test.receive(3));
    test.check_read_exactly(lines.lines);
}

TEST_CASE("tailer: a directory that appears later", "[tail]") {
    TailTest test;
    const fs::path path = test.dir / "var" / "exim4" / "mainlog";
    test.start({path});
    REQUIRE(test.run_until([&] { return test.sink.caught_up == 1; }));

    fs::create_directory(test.dir / "var");
    REQUIRE(test.drain());
    fs::create_directory(test.dir / "var" / "exim4");
    const Lines lines = numbered("new", 3);
    append(path, lines.text);
    REQUIRE(test.receive(3));
    const std::string marker = test.check_read_exactly(lines.lines, path);

    SECTION("and goes again, and comes back") {
        fs::remove_all(test.dir / "var");
        REQUIRE(test.drain());
        fs::create_directories(test.dir / "var" / "exim4");
        const Lines more = numbered("more", 2);
        append(path, more.text);
        REQUIRE(test.receive(6));
        test.check_read_exactly(lines.lines + std::vector<std::string>{marker} + more.lines, path);
    }
}

TEST_CASE("tailer: resume at a committed offset", "[tail]") {
    TailTest test;
    const Lines lines = test.follow_written("line", 6);
    LogPosition committed = test.tailer->positions()[0];
    test.tailer.reset();
    test.sink = RecordingSink();

    committed.offset = lines.text.find(lines.lines[3]);
    const Lines more = numbered("more", 2);
    append(test.log(), more.text);
    test.start({test.log()}, {committed});
    REQUIRE(test.receive(5));
    test.check_read_exactly(std::vector<std::string>(lines.lines.begin() + 3, lines.lines.end()) +
                            more.lines);
}

TEST_CASE("tailer: the file replaced while the tailer was stopped", "[tail]") {
    TailTest test;
    const Lines first = test.follow_written("first", 4);
    const std::vector<LogPosition> committed = test.tailer->positions();
    test.tailer.reset();
    test.sink = RecordingSink();

    const Lines unread = numbered("unread", 3);
    const Lines second = numbered("second", 2);
    append(test.log(), unread.text);
    std::size_t truncations = 0;
    std::size_t rotations = 0;
    SECTION("renamed, and a new file created") {
        append(test.log("mainlog.1"), "an older period\n");
        fs::rename(test.log("mainlog.1"), test.log("mainlog.2"));
        fs::rename(test.log(), test.log("mainlog.1"));
        rotations = 1;
    }
    SECTION("copied and truncated") {
        fs::copy_file(test.log(), test.log("mainlog.1"));
        fs::resize_file(test.log(), 0);
        truncations = 1;
    }
    bool deleted = false;
    SECTION("deleted, and a new file created: what was unread is lost") {
        fs::remove(test.log());
        deleted = true;
    }
    append(test.log(), second.text);
    struct stat status {};
    REQUIRE(::stat(test.log().c_str(), &status) == 0);
    // The new file may get the old one's inode: its head tells them apart,
    // and it counts as the old one truncated, read from 0 all the same.
    if (deleted && status.st_ino == committed[0].inode)
        truncations = 1;
    test.start({test.log()}, committed);
    const auto expected = (deleted ? std::vector<std::string>{} : unread.lines) + second.lines;
    REQUIRE(test.receive(expected.size()));
    test.check_read_exactly(expected);
    CHECK(test.tailer->stats().truncations == truncations);
    CHECK(test.tailer->stats().rotations == rotations);
}

TEST_CASE("tailer: a file truncated while stopped is read from its start", "[tail]") {
    TailTest test;
    test.follow_written("first", 4);
    const std::vector<LogPosition> committed = test.tailer->positions();
    test.tailer.reset();
    test.sink = RecordingSink();

    fs::resize_file(test.log(), 0);
    const Lines second = numbered("second", 2);
    append(test.log(), second.text);
    test.start({test.log()}, committed);
    REQUIRE(test.receive(2));
    test.check_read_exactly(second.lines);
    CHECK(test.tailer->stats().truncations == 1);
}

TEST_CASE("tailer: a line over 16 KiB is cut once and its rest skipped", "[tail]") {
    TailTest test;
    const std::string huge(3 * max_line_bytes + 5, 'x');
    test.start({test.log()});
    REQUIRE(test.run_until([&] { return test.sink.caught_up == 1; }));
    // Written in pieces, so that the cut and the skipping span reads.
    append(test.log(), "before\n" + huge.substr(0, max_line_bytes - 3));
    REQUIRE(test.run_until([&] { return test.sink.received.size() == 1 && test.sink.idle; }));
    append(test.log(), huge.substr(max_line_bytes - 3, max_line_bytes));
    REQUIRE(test.receive(2));
    append(test.log(), huge.substr(2 * max_line_bytes - 3) + "\nafter\n");
    REQUIRE(test.receive(3));
    const std::string marker = test.settle(test.log());
    REQUIRE(test.sink.received.size() == 4);
    CHECK(test.sink.received[0].line == "before");
    CHECK(test.sink.received[1].line == std::string(max_line_bytes, 'x'));
    CHECK(test.sink.received[1].cut);
    CHECK(test.sink.received[2].line == "after");
    CHECK_FALSE(test.sink.received[2].cut);
    CHECK(test.sink.received[3].line == marker);
    CHECK(test.tailer->stats().cut_lines == 1);
    test.check_position_at_end(test.log());
}

TEST_CASE("tailer: pause from inside on_line takes effect after that line", "[tail]") {
    TailTest test;
    const Lines lines = numbered("line", 6);
    std::string text = lines.text;
    std::vector<std::string> expected = lines.lines;
    const std::size_t pause_after = 2;
    std::size_t offset_after_pause = 0;
    SECTION("a whole line") {
        offset_after_pause = text.find(expected[pause_after]);
    }
    SECTION("a cut line: its rest is still skipped after resume") {
        const std::string huge(max_line_bytes + 100, 'y');
        text = lines.lines[0] + "\n" + huge + "\n" + lines.text.substr(lines.lines[0].size() + 1);
        expected.insert(expected.begin() + 1, std::string(max_line_bytes, 'y'));
        // Where the line was cut: the rest is skipped as it is read.
        offset_after_pause = lines.lines[0].size() + 1 + max_line_bytes;
    }
    append(test.log(), text);
    std::size_t paused_at_offset = 0;
    test.sink.after_line = [&](const Received&) {
        if (test.sink.received.size() == pause_after) {
            test.tailer->pause();
            paused_at_offset = test.tailer->positions()[0].offset;
        }
    };
    test.start({test.log()});
    REQUIRE(test.run_until([&] { return test.sink.received.size() >= pause_after; }));
    // Nothing more comes while paused, not even after more is written.
    append(test.log(), numbered("later", 1).text);
    REQUIRE(test.drain());
    CHECK(test.sink.received.size() == pause_after);
    CHECK(test.tailer->positions()[0].offset == paused_at_offset);
    CHECK(paused_at_offset == offset_after_pause);

    test.sink.after_line = nullptr;
    test.tailer->resume();
    REQUIRE(test.receive(expected.size() + 1));
    test.check_read_exactly(expected + numbered("later", 1).lines);
}

TEST_CASE("tailer: a file that cannot be read is retried and then followed", "[tail]") {
    TailTest test;
    const Lines lines = numbered("line", 3);
    if (::geteuid() == 0) {
        // root reads whatever the mode says: a directory at the path
        // cannot be followed either.
        fs::create_directory(test.log());
        test.start({test.log()});
        REQUIRE(test.run_until([&] { return test.tailer->stats().read_errors >= 1; }));
        REQUIRE(test.run_until([&] { return test.sink.caught_up == 1; }));
        fs::remove(test.log());
        append(test.log(), lines.text);
    } else {
        append(test.log(), lines.text);
        fs::permissions(test.log(), fs::perms::none);
        test.start({test.log()});
        REQUIRE(test.run_until([&] { return test.tailer->stats().read_errors >= 1; }));
        CHECK(test.sink.received.empty());
        fs::permissions(test.log(), fs::perms::owner_read | fs::perms::owner_write);
    }
    REQUIRE(test.receive(3));
    test.check_read_exactly(lines.lines);
}

TEST_CASE("tailer: lost events (queue overflow) make it look at every log", "[tail]") {
    TailTest test;
    const Lines first = test.follow_written("first", 2);

    // More events than the kernel queues (16384 by default), unread.
    fs::rename(test.log(), test.log("mainlog.1"));
    for (int i = 0; i < 9000; ++i) // IN_CREATE and IN_CLOSE_WRITE each
        std::ofstream(test.log("mainlog-noise-" + std::to_string(i))) << "x";
    const Lines second = numbered("second", 2);
    append(test.log(), second.text);
    REQUIRE(test.receive(4));
    test.check_read_exactly(first.lines + second.lines);
}

TEST_CASE("tailer: nothing is handed on after stop", "[tail]") {
    TailTest test;
    test.follow_written("first", 2);
    test.tailer->stop();
    append(test.log(), numbered("second", 2).text);
    test.io.restart();
    test.io.run_for(std::chrono::milliseconds(50));
    CHECK(test.sink.received.size() == 2);
    CHECK(test.tailer->positions()[0].offset == numbered("first", 2).text.size());
}

TEST_CASE("tailer: a position that names no file starts the path from 0", "[tail]") {
    TailTest test;
    const Lines lines = numbered("line", 3);
    append(test.log(), lines.text);
    LogPosition nothing_yet;
    nothing_yet.path = test.log().string();
    test.start({test.log()}, {nothing_yet});
    REQUIRE(test.receive(3));
    CHECK(test.sink.lines_of(0) == lines.lines);
    CHECK(test.tailer->stats().truncations == 0);
    test.check_position_at_end(test.log());
}

TEST_CASE("tailer: paused between bursts it holds new lines until resumed", "[tail]") {
    TailTest test;
    const Lines first = test.follow_written("first", 2);
    test.tailer->pause();
    const Lines second = numbered("second", 3);
    append(test.log(), second.text + "2024-05-01 10:00:01 unfinished");
    REQUIRE(test.drain());
    CHECK(test.sink.received.size() == 2);
    test.tailer->resume();
    test.tailer->pause(); // again before the tailer came round: still nothing
    REQUIRE(test.drain());
    CHECK(test.sink.received.size() == 2);
    CHECK(test.tailer->positions()[0].offset == first.text.size());
    test.tailer->resume();
    REQUIRE(test.receive(5));
    append(test.log(), "\n");
    const std::string marker = test.settle(test.log());
    CHECK(test.sink.lines_of(0) ==
          first.lines + second.lines +
              std::vector<std::string>{"2024-05-01 10:00:01 unfinished", marker});
    test.check_position_at_end(test.log());
}
