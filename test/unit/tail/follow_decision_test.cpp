#include "tail/follow_decision.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

namespace {
const FileId open_id{8, 100};
const FileId other_id{8, 200};

OpenFileFacts facts(std::uint64_t size, std::uint64_t read_position, bool head_unchanged = true,
                    bool deleted = false) {
    return {open_id, size, read_position, head_unchanged, deleted};
}
} // namespace

TEST_CASE("a grown file is read on whatever the path names", "[tail]") {
    CHECK(next_follow_step(facts(10, 4), open_id) == FollowStep::read_on);
    CHECK(next_follow_step(facts(10, 4), other_id) == FollowStep::read_on);
    CHECK(next_follow_step(facts(10, 4), std::nullopt) == FollowStep::read_on);
}

TEST_CASE("a file at its end waits while the path names it or nothing", "[tail]") {
    CHECK(next_follow_step(facts(10, 10), open_id) == FollowStep::wait);
    CHECK(next_follow_step(facts(0, 0), open_id) == FollowStep::wait);
    // Renamed away or deleted, nothing new yet: the old file may still grow.
    CHECK(next_follow_step(facts(10, 10), std::nullopt) == FollowStep::wait);
}

TEST_CASE("a file at its end moves on when the path names another file", "[tail]") {
    CHECK(next_follow_step(facts(10, 10), other_id) == FollowStep::switch_to_path);
    CHECK(next_follow_step(facts(10, 10), FileId{9, 100}) == FollowStep::switch_to_path);
}

TEST_CASE("a deleted file is let go at its end while the path names nothing", "[tail]") {
    CHECK(next_follow_step(facts(10, 10, true, true), std::nullopt) == FollowStep::let_go);
    CHECK(next_follow_step(facts(10, 4, true, true), std::nullopt) == FollowStep::read_on);
    CHECK(next_follow_step(facts(10, 10, true, true), other_id) == FollowStep::switch_to_path);
}

TEST_CASE("a file shorter than what was read or with another head is read again", "[tail]") {
    CHECK(next_follow_step(facts(3, 10), open_id) == FollowStep::read_again);
    CHECK(next_follow_step(facts(0, 10), std::nullopt) == FollowStep::read_again);
    // Truncated and written past the old position before the tailer looked.
    CHECK(next_follow_step(facts(50, 10, false), open_id) == FollowStep::read_again);
    // Seen before a switch: the truncated file's new bytes are not the old ones' rest.
    CHECK(next_follow_step(facts(3, 10), other_id) == FollowStep::read_again);
}
