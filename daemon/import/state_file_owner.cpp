#include "import/state_file_owner.hpp"

#include "store/database_files.hpp"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace exim_ban {

std::vector<std::string> hand_database_to_directory_owner(const std::filesystem::path& database) {
    std::vector<std::string> failures;
    if (::geteuid() != 0)
        return failures;
    const std::filesystem::path directory =
        database.has_parent_path() ? database.parent_path() : std::filesystem::path(".");
    struct stat owner {};
    if (::stat(directory.c_str(), &owner) != 0) {
        failures.push_back(directory.string() + ": " + std::strerror(errno));
        return failures;
    }
    std::vector<std::filesystem::path> files{database};
    for (const char* suffix : database_companion_suffixes)
        files.push_back(database.string() + suffix);
    for (const auto& file : files) {
        struct stat now {};
        if (::lstat(file.c_str(), &now) != 0) {
            if (errno != ENOENT)
                failures.push_back(file.string() + ": " + std::strerror(errno));
            continue;
        }
        if (now.st_uid == owner.st_uid && now.st_gid == owner.st_gid)
            continue;
        // lchown: a symbolic link planted in the directory must not hand
        // some other file to its owner.
        if (::lchown(file.c_str(), owner.st_uid, owner.st_gid) != 0)
            failures.push_back(file.string() + ": " + std::strerror(errno));
    }
    return failures;
}

} // namespace exim_ban
