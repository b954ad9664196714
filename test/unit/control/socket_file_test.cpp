#include "control/socket_file.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <fstream>
#include <grp.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace exim_ban;
using exim_ban::testing::TempDir;
namespace fs = std::filesystem;

namespace {

struct stat status_of(const fs::path& path) {
    struct stat status {};
    REQUIRE(::lstat(path.c_str(), &status) == 0);
    return status;
}

// A socket file nobody listens on, as a killed daemon leaves it.
void leave_stale_socket(const fs::path& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    const sockaddr_un address = unix_socket_address(path);
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::close(fd) == 0);
}

std::string failure_of(const fs::path& path, gid_t gid) {
    try {
        const ListeningSocket listening = open_listening_socket(path, gid);
        CHECK(remove_socket_file(path, listening.device, listening.inode) == 0);
        CHECK(::close(listening.fd) == 0);
    } catch (const std::runtime_error& error) {
        return error.what();
    }
    FAIL("open_listening_socket did not throw");
    return {};
}

} // namespace

TEST_CASE("socket file: a path must fit sun_path", "[control]") {
    CHECK(unix_socket_address("/run/exim-ban/control.sock").sun_family == AF_UNIX);
    CHECK(std::string(unix_socket_address(std::string(107, 'a')).sun_path) ==
          std::string(107, 'a'));
    CHECK_THROWS_WITH(unix_socket_address(std::string(108, 'a')),
                      Catch::Contains("must be 1 to 107 bytes long"));
    CHECK_THROWS_AS(unix_socket_address(""), std::runtime_error);
}

TEST_CASE("socket file: the control group by name, or the daemon's own", "[control]") {
    const ControlGroup own = look_up_control_group("");
    CHECK(own.gid == ::getegid());
    const group* entry = ::getgrgid(::getegid());
    REQUIRE(entry != nullptr);
    CHECK(own.name == entry->gr_name);
    CHECK(look_up_control_group(entry->gr_name).gid == ::getegid());
    CHECK_THROWS_WITH(look_up_control_group("no-such-group-exim-ban"),
                      "the control group \"no-such-group-exim-ban\" does not exist; create it "
                      "(groupadd) or name another");
}

TEST_CASE("socket file: made in new directories, mode 0660, the group's", "[control]") {
    TempDir dir;
    const fs::path path = dir / "a/b/control.sock";
    // A strict umask must not make the directories unsearchable for the
    // group or the socket unusable.
    const mode_t old_umask = ::umask(077);
    const ListeningSocket listening = open_listening_socket(path, ::getegid());
    ::umask(old_umask);
    CHECK((status_of(dir / "a").st_mode & 07777) == 0755);
    CHECK((status_of(dir / "a/b").st_mode & 07777) == 0755);
    const struct stat status = status_of(path);
    CHECK(S_ISSOCK(status.st_mode));
    CHECK((status.st_mode & 07777) == 0660);
    CHECK(status.st_gid == ::getegid());
    CHECK(status.st_ino == listening.inode);
    CHECK((::fcntl(listening.fd, F_GETFD) & FD_CLOEXEC) != 0);
    CHECK(remove_socket_file(path, listening.device, listening.inode) == 0);
    REQUIRE(::close(listening.fd) == 0);
    CHECK_FALSE(fs::exists(path));
}

TEST_CASE("socket file: a stale socket is replaced, a live one refused", "[control]") {
    TempDir dir;
    const fs::path path = dir / "control.sock";
    leave_stale_socket(path);
    const ListeningSocket first = open_listening_socket(path, ::getegid());
    CHECK(failure_of(path, ::getegid()) ==
          "another process (exim-band already running?) answers on \"" + path.string() +
              "\"; stop it first or choose another socket");
    CHECK(status_of(path).st_ino == first.inode);
    CHECK(remove_socket_file(path, first.device, first.inode) == 0);
    REQUIRE(::close(first.fd) == 0);
}

TEST_CASE("socket file: something other than a socket at the path is left alone", "[control]") {
    TempDir dir;
    const fs::path path = dir / "control.sock";
    std::ofstream(path) << "not a socket\n";
    CHECK(failure_of(path, ::getegid()) ==
          "\"" + path.string() +
              "\" exists and is not a socket; remove it or choose another socket");
    CHECK(fs::is_regular_file(path));
    const fs::path under_file = dir / "control.sock/x.sock";
    CHECK(failure_of(under_file, ::getegid()) ==
          "the control socket's directory \"" + path.string() +
              "\" is not a directory; remove it or choose another socket");
}

TEST_CASE("socket file: a successor's socket is not removed", "[control]") {
    TempDir dir;
    const fs::path path = dir / "control.sock";
    const ListeningSocket first = open_listening_socket(path, ::getegid());
    // Someone removed the file and started another daemon.
    REQUIRE(::unlink(path.c_str()) == 0);
    const ListeningSocket second = open_listening_socket(path, ::getegid());
    CHECK(remove_socket_file(path, first.device, first.inode) == 0);
    CHECK(fs::is_socket(path));
    REQUIRE(::close(first.fd) == 0);
    CHECK(remove_socket_file(path, second.device, second.inode) == 0);
    CHECK_FALSE(fs::exists(path));
    CHECK(remove_socket_file(path, second.device, second.inode) == 0);
    REQUIRE(::close(second.fd) == 0);
}
