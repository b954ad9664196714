#include "tail/resume_plan.hpp"

#include "tail/followed_file.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace exim_ban {
namespace {

std::optional<CandidateFile> survey(const std::string& path, std::size_t head_bytes) {
    const FileOpening opening = FollowedFile::open(path);
    if (!opening.file)
        return std::nullopt;
    const FileStatus status = opening.file->status();
    if (status.error != 0)
        return std::nullopt;
    return CandidateFile{path, opening.file->id(), status.size,
                         opening.file->hash_first(head_bytes)};
}

// logrotate names them mainlog.1, mainlog.2.gz, mainlog-20240101;
// exicyclog mainlog.01, mainlog.02.
std::vector<std::string> sibling_paths(const std::filesystem::path& log) {
    std::filesystem::path directory = log.parent_path();
    if (directory.empty())
        directory = ".";
    const std::string name = log.filename().string();
    std::vector<std::string> paths;
    std::error_code error;
    std::filesystem::directory_iterator entries(directory, error);
    // An unreadable directory has no candidates: the rest is then lost,
    // which the caller reports.
    for (; !error && entries != std::filesystem::directory_iterator(); entries.increment(error)) {
        const std::string entry = entries->path().filename().string();
        if (entry.size() > name.size() && entry.starts_with(name))
            paths.push_back(entries->path().string());
    }
    std::sort(paths.begin(), paths.end());
    return paths;
}

} // namespace

ResumePlan plan_resume(const LogPosition& committed, const std::optional<CandidateFile>& at_path,
                       const std::vector<CandidateFile>& siblings) {
    ResumePlan plan;
    plan.offset = committed.offset;
    const auto head = parse_head_hash(committed.head_hash);
    if (!head)
        return plan;
    const FileId committed_id{committed.device, committed.inode};
    const auto holds_rest = [&](const CandidateFile& file) {
        return file.head == *head && file.size >= committed.offset;
    };
    if (at_path && at_path->id == committed_id && holds_rest(*at_path)) {
        plan.kind = ResumePlan::Kind::continue_at_path;
        return plan;
    }
    const auto rotated = [&](const CandidateFile& file, bool copy) {
        plan.kind = ResumePlan::Kind::finish_rotated;
        plan.rotated = file;
        plan.rotated_is_copy = copy;
        return plan;
    };
    for (const auto& sibling : siblings)
        if (sibling.id == committed_id && holds_rest(sibling))
            return rotated(sibling, false);
    if (head->bytes > 0)
        for (const auto& sibling : siblings)
            if (sibling.id != committed_id && holds_rest(sibling))
                return rotated(sibling, true);
    if (at_path && at_path->id == committed_id)
        plan.kind = ResumePlan::Kind::path_truncated;
    return plan;
}

ResumePlan find_resume_plan(const LogPosition& committed) {
    const auto head = parse_head_hash(committed.head_hash);
    const std::size_t head_bytes = head ? head->bytes : 0;
    std::vector<CandidateFile> siblings;
    for (const auto& path : sibling_paths(committed.path))
        if (auto candidate = survey(path, head_bytes))
            siblings.push_back(std::move(*candidate));
    return plan_resume(committed, survey(committed.path, head_bytes), siblings);
}

} // namespace exim_ban
