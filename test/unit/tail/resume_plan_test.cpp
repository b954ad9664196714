#include "support/temp_dir.hpp"
#include "tail/followed_file.hpp"
#include "tail/resume_plan.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

using namespace exim_ban;
using Kind = ResumePlan::Kind;

namespace {

const HeadHash head = hash_head("2024-05-01 10:00:00 first line");
const HeadHash other_head = hash_head("2024-05-02 10:00:00 first line");
const FileId committed_id{8, 100};

LogPosition committed(std::uint64_t offset = 500) {
    return {"/var/log/exim4/mainlog", committed_id.device, committed_id.inode, to_string(head),
            offset};
}

CandidateFile file(const std::string& name, FileId id, std::uint64_t size,
                   std::optional<HeadHash> file_head) {
    return {"/var/log/exim4/" + name, id, size, file_head};
}

} // namespace

TEST_CASE("the committed file still at the path is read on from the offset", "[tail]") {
    const auto plan = plan_resume(committed(), file("mainlog", committed_id, 900, head), {});
    CHECK(plan.kind == Kind::continue_at_path);
    CHECK(plan.offset == 500);
    // Exactly as long as what was read: nothing new, still the same file.
    CHECK(plan_resume(committed(), file("mainlog", committed_id, 500, head), {}).kind ==
          Kind::continue_at_path);
}

TEST_CASE("a file renamed while stopped is found beside the path by inode and head", "[tail]") {
    const std::vector<CandidateFile> siblings{
        file("mainlog.01", FileId{8, 50}, 2000, other_head),
        file("mainlog.02", committed_id, 900, head),
    };
    const auto plan =
        plan_resume(committed(), file("mainlog", FileId{8, 300}, 40, other_head), siblings);
    CHECK(plan.kind == Kind::finish_rotated);
    CHECK(plan.rotated.path == "/var/log/exim4/mainlog.02");
    CHECK_FALSE(plan.rotated_is_copy);
    CHECK(plan.offset == 500);
}

TEST_CASE("a renamed file is preferred to a copy", "[tail]") {
    const std::vector<CandidateFile> siblings{
        file("mainlog.1", FileId{8, 51}, 900, head),
        file("mainlog.2", committed_id, 900, head),
    };
    const auto plan = plan_resume(committed(), std::nullopt, siblings);
    REQUIRE(plan.kind == Kind::finish_rotated);
    CHECK(plan.rotated.path == "/var/log/exim4/mainlog.2");
}

TEST_CASE("copytruncate's copy is found by head and length", "[tail]") {
    const std::vector<CandidateFile> siblings{
        file("mainlog.1", FileId{8, 51}, 499, head),         // too short
        file("mainlog.2", FileId{8, 52}, 5000, other_head),  // another period
        file("mainlog.3", FileId{8, 53}, 700, std::nullopt), // shorter than the head
        file("mainlog.4", FileId{8, 54}, 500, head),
    };
    const auto plan =
        plan_resume(committed(), file("mainlog", committed_id, 20, other_head), siblings);
    REQUIRE(plan.kind == Kind::finish_rotated);
    CHECK(plan.rotated.path == "/var/log/exim4/mainlog.4");
    CHECK(plan.rotated_is_copy);
}

TEST_CASE("the committed file truncated at the path with no copy is read from 0", "[tail]") {
    CHECK(plan_resume(committed(), file("mainlog", committed_id, 20, other_head), {}).kind ==
          Kind::path_truncated);
    CHECK(plan_resume(committed(), file("mainlog", committed_id, 499, head), {}).kind ==
          Kind::path_truncated);
    // Its inode renamed away but too short to hold the offset: no candidate.
    const std::vector<CandidateFile> siblings{file("mainlog.1", committed_id, 100, head)};
    CHECK(plan_resume(committed(), file("mainlog", committed_id, 20, head), siblings).kind ==
          Kind::path_truncated);
}

TEST_CASE("a committed file found nowhere is lost", "[tail]") {
    CHECK(plan_resume(committed(), std::nullopt, {}).kind == Kind::rest_lost);
    CHECK(plan_resume(committed(), file("mainlog", FileId{8, 300}, 900, head), {}).kind ==
          Kind::rest_lost);
    const std::vector<CandidateFile> siblings{file("mainlog.1", FileId{9, 100}, 900, other_head)};
    CHECK(plan_resume(committed(), std::nullopt, siblings).kind == Kind::rest_lost);
}

TEST_CASE("a head over 0 bytes matches only the same inode and no copy", "[tail]") {
    LogPosition empty = committed(0);
    empty.head_hash = to_string(hash_head(""));
    const std::vector<CandidateFile> copy_like{
        file("mainlog.1", FileId{8, 51}, 900, hash_head(""))};
    CHECK(plan_resume(empty, std::nullopt, copy_like).kind == Kind::rest_lost);
    const std::vector<CandidateFile> renamed{file("mainlog.1", committed_id, 900, hash_head(""))};
    CHECK(plan_resume(empty, std::nullopt, renamed).kind == Kind::finish_rotated);
}

TEST_CASE("a committed head hash that does not parse makes the rest lost", "[tail]") {
    LogPosition broken = committed();
    broken.head_hash = "not a hash";
    CHECK(plan_resume(broken, file("mainlog", committed_id, 900, head), {}).kind ==
          Kind::rest_lost);
}

TEST_CASE("find_resume_plan surveys the path and its siblings on disk", "[tail]") {
    exim_ban::testing::TempDir dir;
    const std::string path = (dir / "mainlog").string();
    std::ofstream(path) << "line one\nline two\n";
    const FileOpening opened = FollowedFile::open(path);
    REQUIRE(opened.file);
    const LogPosition position{path, opened.file->id().device, opened.file->id().inode,
                               to_string(opened.file->head()), 9};

    CHECK(find_resume_plan(position).kind == Kind::continue_at_path);

    std::filesystem::rename(path, dir / "mainlog.01");
    std::ofstream(path) << "new\n";
    std::ofstream(dir / "other.log") << "line one\nline two\n";
    const ResumePlan plan = find_resume_plan(position);
    REQUIRE(plan.kind == Kind::finish_rotated);
    CHECK(plan.rotated.path == (dir / "mainlog.01").string());
    CHECK(plan.offset == 9);
}
