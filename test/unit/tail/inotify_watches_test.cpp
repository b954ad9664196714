#include "support/temp_dir.hpp"
#include "tail/inotify_watches.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sys/inotify.h>

using namespace exim_ban;

namespace {

void append_event(std::vector<char>& bytes, int watch, std::uint32_t mask, std::string name,
                  std::size_t padded) {
    inotify_event header{};
    header.wd = watch;
    header.mask = mask;
    header.len = static_cast<std::uint32_t>(padded);
    const std::size_t at = bytes.size();
    bytes.resize(at + sizeof header + padded, '\0');
    std::memcpy(bytes.data() + at, &header, sizeof header);
    std::memcpy(bytes.data() + at + sizeof header, name.data(), name.size());
}

} // namespace

TEST_CASE("inotify events are parsed with their padded names", "[tail]") {
    std::vector<char> bytes;
    append_event(bytes, 3, IN_CREATE, "mainlog", 16);
    append_event(bytes, 4, IN_MODIFY, "", 0);
    append_event(bytes, -1, IN_Q_OVERFLOW, "", 0);
    const auto events = parse_inotify_events(bytes);
    REQUIRE(events.size() == 3);
    CHECK(events[0].watch == 3);
    CHECK(events[0].mask == IN_CREATE);
    CHECK(events[0].name == "mainlog");
    CHECK(events[1].watch == 4);
    CHECK(events[1].name.empty());
    CHECK(events[2].mask == IN_Q_OVERFLOW);

    bytes.resize(bytes.size() - 1);
    CHECK(parse_inotify_events(bytes).size() == 2);
    append_event(bytes, 5, IN_DELETE, "mainlog", 16);
    bytes.resize(bytes.size() - 4); // its name cut short: dropped
    CHECK(parse_inotify_events(bytes).size() == 2);
}

TEST_CASE("a missing directory is watched through its nearest existing ancestor", "[tail]") {
    exim_ban::testing::TempDir dir;
    boost::asio::io_context io;
    InotifyWatches watches(io);
    const std::uint32_t mask = IN_CREATE | IN_MOVED_TO;

    const DirectoryWatch on_ancestor = watches.add_directory(dir / "a" / "b", mask);
    CHECK(on_ancestor.watch >= 0);
    CHECK_FALSE(on_ancestor.on_directory);
    CHECK(watches.add_directory(dir.path(), mask).watch == on_ancestor.watch);

    std::filesystem::create_directory(dir / "a");
    std::vector<InotifyEvent> got;
    watches.async_read_events([&](const boost::system::error_code& error, auto events) {
        CHECK_FALSE(error);
        got = std::move(events);
    });
    io.run_for(std::chrono::seconds(5));
    REQUIRE(got.size() == 1);
    CHECK(got[0].watch == on_ancestor.watch);
    CHECK(got[0].name == "a");
    CHECK((got[0].mask & IN_ISDIR) != 0);

    const DirectoryWatch closer = watches.add_directory(dir / "a" / "b", mask);
    CHECK_FALSE(closer.on_directory);
    CHECK(closer.watch != on_ancestor.watch);
    std::filesystem::create_directory(dir / "a" / "b");
    const DirectoryWatch on_directory = watches.add_directory(dir / "a" / "b", mask);
    CHECK(on_directory.on_directory);

    // A file where a directory should be: ENOTDIR, also walked past.
    std::ofstream(dir / "file") << "x";
    CHECK(watches.add_directory(dir / "file" / "sub", mask).watch == on_ancestor.watch);
}
