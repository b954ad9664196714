#include "export/zone_file.hpp"

#include "core/unique_fd.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace exim_ban {
namespace {

std::string failure(const char* what, const std::filesystem::path& path, int error) {
    return std::string(what) + ' ' + path.string() + ": " + std::strerror(error);
}

std::optional<std::string> write_all(int fd, std::string_view content,
                                     const std::filesystem::path& path) {
    while (!content.empty()) {
        const ssize_t written = ::write(fd, content.data(), content.size());
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return failure("cannot write", path, errno);
        }
        content.remove_prefix(static_cast<std::size_t>(written));
    }
    return std::nullopt;
}

} // namespace

std::optional<std::string> replace_file(const std::filesystem::path& path,
                                        std::string_view content) {
    const std::filesystem::path directory =
        path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    std::string temporary = (directory / ("." + path.filename().string() + ".XXXXXX")).string();
    UniqueFd file(::mkstemp(temporary.data()));
    if (file.get() < 0)
        return failure("cannot create a file in", directory, errno);
    const auto give_up = [&](std::string message) {
        ::unlink(temporary.c_str());
        return std::optional<std::string>(std::move(message));
    };
    // mkstemp makes it 0600; readers such as rbldnsd run as another user.
    if (::fchmod(file.get(), 0644) != 0)
        return give_up(failure("cannot chmod", temporary, errno));
    if (auto error = write_all(file.get(), content, temporary))
        return give_up(*error);
    if (::fsync(file.get()) != 0)
        return give_up(failure("cannot fsync", temporary, errno));
    if (const int error = file.close())
        return give_up(failure("cannot close", temporary, error));
    if (::rename(temporary.c_str(), path.c_str()) != 0)
        return give_up(failure("cannot rename over", path, errno));
    // The rename is durable only once the directory is.
    UniqueFd dir(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0 || ::fsync(dir.get()) != 0)
        return failure("cannot fsync", directory, errno);
    return std::nullopt;
}

} // namespace exim_ban
