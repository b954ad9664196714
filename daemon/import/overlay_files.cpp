#include "import/overlay_files.hpp"

#include <algorithm>

namespace exim_ban {

std::optional<std::string> OverlayFiles::read(const std::filesystem::path& path) const {
    if (path == path_)
        return text_;
    return base_.read(path);
}

std::vector<std::filesystem::path>
OverlayFiles::list(const std::filesystem::path& directory) const {
    std::vector<std::filesystem::path> paths = base_.list(directory);
    std::erase(paths, path_);
    if (text_ && path_.parent_path() == directory) {
        paths.push_back(path_);
        std::sort(paths.begin(), paths.end());
    }
    return paths;
}

} // namespace exim_ban
