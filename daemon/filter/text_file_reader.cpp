#include "filter/text_file_reader.hpp"

#include "core/load_error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace exim_ban {

std::optional<std::string> DiskTextFileReader::read(const std::filesystem::path& path) const {
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (status.type() == std::filesystem::file_type::not_found)
        return std::nullopt;
    if (error)
        throw LoadError(path.string(), 0, "cannot read: " + error.message());
    if (std::filesystem::is_directory(status))
        throw LoadError(path.string(), 0, "is a directory, not a file");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw LoadError(path.string(), 0, std::string("cannot open: ") + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad())
        throw LoadError(path.string(), 0, "read error");
    return std::move(text).str();
}

std::vector<std::filesystem::path>
DiskTextFileReader::list(const std::filesystem::path& directory) const {
    std::error_code error;
    std::vector<std::filesystem::path> files;
    std::filesystem::directory_iterator entries(directory, error);
    if (error == std::errc::no_such_file_or_directory)
        return files;
    if (error)
        throw LoadError(directory.string(), 0, "cannot list: " + error.message());
    for (const auto& entry : entries) {
        if (entry.is_regular_file(error))
            files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

} // namespace exim_ban
