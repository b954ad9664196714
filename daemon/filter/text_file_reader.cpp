#include "filter/text_file_reader.hpp"

#include "core/load_error.hpp"

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

} // namespace exim_ban
