#include "tail/rotation_grace.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using std::chrono::milliseconds;

namespace {
const GraceClock::time_point left{std::chrono::hours(1)};
constexpr milliseconds grace{300'000};

RotatedFileFacts facts(std::uint64_t size, std::uint64_t read_position, bool head_unchanged = true,
                       bool deleted = false) {
    return {size, read_position, head_unchanged, deleted, left};
}
} // namespace

TEST_CASE("a rotated file that grew is read on, however late", "[tail]") {
    CHECK(next_rotated_file_step(facts(10, 4), left, grace) == RotatedFileStep::read_on);
    CHECK(next_rotated_file_step(facts(10, 4), left + grace * 10, grace) ==
          RotatedFileStep::read_on);
    // Deleted after the late lines were written: they are still read.
    CHECK(next_rotated_file_step(facts(10, 4, true, true), left, grace) ==
          RotatedFileStep::read_on);
}

TEST_CASE("a rotated file at its end waits until it has been quiet for the grace period",
          "[tail]") {
    CHECK(next_rotated_file_step(facts(10, 10), left, grace) == RotatedFileStep::wait);
    CHECK(next_rotated_file_step(facts(10, 10), left + grace - milliseconds(1), grace) ==
          RotatedFileStep::wait);
    CHECK(next_rotated_file_step(facts(10, 10), left + grace, grace) == RotatedFileStep::let_go);
    CHECK(grace_ends(left, grace) == left + grace);
    // A grace of 0 lets it go as soon as it is read to its end.
    CHECK(next_rotated_file_step(facts(10, 10), left, milliseconds(0)) == RotatedFileStep::let_go);
}

TEST_CASE("a rotated file deleted, truncated or rewritten is let go", "[tail]") {
    CHECK(next_rotated_file_step(facts(10, 10, true, true), left, grace) ==
          RotatedFileStep::let_go);
    CHECK(next_rotated_file_step(facts(4, 10), left, grace) == RotatedFileStep::let_go);
    CHECK(next_rotated_file_step(facts(20, 10, false), left, grace) == RotatedFileStep::let_go);
}

TEST_CASE("a committed rotated file becomes a position of its path", "[tail]") {
    LogPosition committed{"/var/log/exim4/mainlog", 8,  100,
                          "256:00000000000000aa",   40, std::nullopt};
    CHECK_FALSE(rotated_file_position(committed));
    committed.rotated = RotatedFilePosition{8, 99, "256:00000000000000bb", 7000};
    const auto position = rotated_file_position(committed);
    REQUIRE(position);
    CHECK(position->path == "/var/log/exim4/mainlog");
    CHECK(position->device == 8);
    CHECK(position->inode == 99);
    CHECK(position->head_hash == "256:00000000000000bb");
    CHECK(position->offset == 7000);
    CHECK_FALSE(position->rotated);
}
