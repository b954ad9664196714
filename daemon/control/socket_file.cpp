#include "control/socket_file.hpp"

#include "core/unique_fd.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace exim_ban {
namespace {

constexpr mode_t directory_mode = 0755;
// Read and write for root and the control group: connecting needs write
// permission on the file. Who may send what is decided per request.
constexpr mode_t socket_mode = 0660;
constexpr std::size_t max_group_buffer = std::size_t{1} << 20;

std::string quoted(const std::filesystem::path& path) {
    return "\"" + path.string() + "\"";
}

std::string error_text(int error) {
    return std::strerror(error);
}

void make_directories(const std::filesystem::path& directory) {
    if (directory.empty())
        return;
    struct stat status {};
    if (::stat(directory.c_str(), &status) == 0) {
        if (!S_ISDIR(status.st_mode))
            throw std::runtime_error("the control socket's directory " + quoted(directory) +
                                     " is not a directory; remove it or choose another socket");
        return;
    }
    if (errno != ENOENT)
        throw std::runtime_error("cannot look at " + quoted(directory) + ": " + error_text(errno));
    make_directories(directory.parent_path());
    // mkdir's mode goes through the umask; the explicit chmod makes the
    // directory searchable by the control group whatever the umask.
    if (::mkdir(directory.c_str(), directory_mode) != 0 && errno != EEXIST)
        throw std::runtime_error("cannot create the control socket's directory " +
                                 quoted(directory) + ": " + error_text(errno));
    if (::chmod(directory.c_str(), directory_mode) != 0)
        throw std::runtime_error("cannot make " + quoted(directory) +
                                 " mode 0755: " + error_text(errno));
}

// A socket file stays behind when a daemon is killed. It is only removed
// when nobody answers on it: a running daemon's socket is never taken.
void remove_stale_socket(const std::filesystem::path& path, const sockaddr_un& address) {
    struct stat status {};
    if (::lstat(path.c_str(), &status) != 0) {
        if (errno == ENOENT)
            return;
        throw std::runtime_error("cannot look at " + quoted(path) + ": " + error_text(errno));
    }
    if (!S_ISSOCK(status.st_mode))
        throw std::runtime_error(quoted(path) +
                                 " exists and is not a socket; remove it or choose another socket");
    const UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (probe.get() < 0)
        throw std::runtime_error("cannot create a socket: " + error_text(errno));
    // Non-blocking: a live daemon with a full backlog says EAGAIN rather
    // than holding the start-up.
    const int connected =
        ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
    const int error = connected == 0 ? 0 : errno;
    if (error == 0 || error == EAGAIN || error == EINPROGRESS)
        throw std::runtime_error("another process (exim-band already running?) answers on " +
                                 quoted(path) + "; stop it first or choose another socket");
    if (error != ECONNREFUSED)
        throw std::runtime_error("cannot tell whether " + quoted(path) +
                                 " is in use: " + error_text(error));
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw std::runtime_error("cannot remove the stale socket " + quoted(path) + ": " +
                                 error_text(errno));
}

} // namespace

sockaddr_un unix_socket_address(const std::filesystem::path& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string& text = path.native();
    if (text.empty() || text.size() >= sizeof address.sun_path)
        throw std::runtime_error("the control socket path " + quoted(path) + " must be 1 to " +
                                 std::to_string(sizeof address.sun_path - 1) +
                                 " bytes long; choose a shorter one");
    std::memcpy(address.sun_path, text.data(), text.size());
    return address;
}

ControlGroup look_up_control_group(const std::string& name) {
    std::vector<char> buffer(1024);
    group entry{};
    group* found = nullptr;
    // The _r lookups say ERANGE without saying how much is needed.
    const auto look_up = [&](const auto& lookup) {
        int error = 0;
        while ((error = lookup(buffer)) == ERANGE && buffer.size() < max_group_buffer)
            buffer.resize(buffer.size() * 2);
        return error;
    };
    if (name.empty()) {
        const gid_t own = ::getegid();
        const int error = look_up([&](std::vector<char>& space) {
            return ::getgrgid_r(own, &entry, space.data(), space.size(), &found);
        });
        // A gid without a name still works; the refusal message shows it.
        if (error != 0 || found == nullptr)
            return {own, std::to_string(own)};
        return {own, entry.gr_name};
    }
    const int error = look_up([&](std::vector<char>& space) {
        return ::getgrnam_r(name.c_str(), &entry, space.data(), space.size(), &found);
    });
    if (error != 0)
        throw std::runtime_error("cannot look up the control group \"" + name +
                                 "\": " + error_text(error));
    if (found == nullptr)
        throw std::runtime_error("the control group \"" + name +
                                 "\" does not exist; create it (groupadd) or name another");
    return {entry.gr_gid, name};
}

ListeningSocket open_listening_socket(const std::filesystem::path& path, gid_t gid) {
    const sockaddr_un address = unix_socket_address(path);
    make_directories(path.parent_path());
    remove_stale_socket(path, address);
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0)
        throw std::runtime_error("cannot create the control socket: " + error_text(errno));
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
        throw std::runtime_error("cannot bind the control socket " + quoted(path) + ": " +
                                 error_text(errno));
    // From here on the file is ours: a failure removes it again.
    const auto fail = [&](const std::string& what) {
        if (::unlink(path.c_str()) != 0)
            throw std::runtime_error(what + " (and cannot remove " + quoted(path) +
                                     " again: " + error_text(errno) + ")");
        throw std::runtime_error(what);
    };
    if (::chmod(path.c_str(), socket_mode) != 0)
        fail("cannot make " + quoted(path) + " mode 0660: " + error_text(errno));
    if (::chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0)
        fail("cannot give " + quoted(path) + " to group " + std::to_string(gid) + ": " +
             error_text(errno) + "; run exim-band as root or name a group it is in");
    struct stat status {};
    if (::lstat(path.c_str(), &status) != 0)
        fail("cannot look at " + quoted(path) + ": " + error_text(errno));
    if (::listen(fd.get(), SOMAXCONN) != 0)
        fail("cannot listen on " + quoted(path) + ": " + error_text(errno));
    return {fd.release(), status.st_dev, status.st_ino};
}

int remove_socket_file(const std::filesystem::path& path, dev_t device, ino_t inode) {
    struct stat status {};
    if (::lstat(path.c_str(), &status) != 0)
        return errno == ENOENT ? 0 : errno;
    if (status.st_dev != device || status.st_ino != inode)
        return 0;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return errno;
    return 0;
}

} // namespace exim_ban
