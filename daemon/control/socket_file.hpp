// The control socket as a file: its address, the group that may use it,
// and making it (directory, stale file, bind, mode, group) and removing it.
// Everything here runs at start-up or shut-down; failures throw
// std::runtime_error saying what to do.
#pragma once

#include <filesystem>
#include <string>
#include <sys/types.h>
#include <sys/un.h>

namespace exim_ban {

// The sockaddr of `path`. Throws when the path does not fit sun_path
// (107 bytes and a NUL).
sockaddr_un unix_socket_address(const std::filesystem::path& path);

struct ControlGroup {
    gid_t gid = 0;
    std::string name; // as the administrator wrote it, or the gid's name
};

// `name` looked up with getgrnam_r; empty: the daemon's own effective gid
// (its name, or the number when it has none). Throws for an unknown group.
ControlGroup look_up_control_group(const std::string& name);

struct ListeningSocket {
    int fd = -1; // close-on-exec, listening; the caller owns it
    dev_t device = 0;
    ino_t inode = 0; // of the socket file, for remove_socket_file
};

// Creates the missing directories above `path` (mode 0755), removes a
// stale socket there (a socket nobody answers on), binds, makes the file
// mode 0660 and group `gid`, then listens: no peer can connect before the
// file has its mode and group. Throws when another process answers on
// `path`, when something other than a socket is there, or on any failure.
ListeningSocket open_listening_socket(const std::filesystem::path& path, gid_t gid);

// Unlinks `path` if it is still the file open_listening_socket made (a
// successor daemon's socket is left alone). Call it before closing the
// socket: until then the file's inode cannot be reused, which makes
// device + inode a safe test. Returns 0 or the errno of a failure (nothing
// at `path` is not one).
int remove_socket_file(const std::filesystem::path& path, dev_t device, ino_t inode);

} // namespace exim_ban
