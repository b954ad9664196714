#include "tail/inotify_watches.hpp"

#include <boost/asio/buffer.hpp>
#include <cerrno>
#include <cstring>
#include <sys/inotify.h>
#include <system_error>
#include <unistd.h>
#include <utility>

namespace exim_ban {
namespace {

constexpr std::size_t buffer_bytes = std::size_t{64} * 1024;

bool is_limit(int error) {
    return error == EMFILE || error == ENFILE;
}

} // namespace

std::vector<InotifyEvent> parse_inotify_events(std::span<const char> bytes) {
    std::vector<InotifyEvent> events;
    std::size_t at = 0;
    while (bytes.size() - at >= sizeof(inotify_event)) {
        // The buffer is a char array: copy the header out rather than cast
        // a possibly misaligned pointer.
        inotify_event header{};
        std::memcpy(&header, bytes.data() + at, sizeof header);
        const std::size_t name_at = at + sizeof header;
        if (bytes.size() - name_at < header.len)
            break;
        // The name is NUL-padded to an alignment boundary.
        const char* name = bytes.data() + name_at;
        events.push_back({header.wd, header.mask, std::string(name, ::strnlen(name, header.len))});
        at = name_at + header.len;
    }
    return events;
}

InotifyWatches::InotifyWatches(boost::asio::io_context& io)
    : descriptor_(io)
    , buffer_(std::make_unique<char[]>(buffer_bytes)) {
    // A limit is the admin's to raise and may be freed by other programs
    // any time: the tailer polls meanwhile. Anything else means no inotify.
    if (const int error = open(); error != 0 && !is_limit(error))
        throw std::system_error(error, std::generic_category(), "cannot set up inotify");
}

InotifyWatches::~InotifyWatches() = default;

int InotifyWatches::open() {
    if (closed_)
        return EBADF;
    if (descriptor_.is_open())
        return 0;
    const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0)
        return errno;
    descriptor_.assign(fd);
    if (waiting_)
        start_read();
    return 0;
}

WatchAdding InotifyWatches::add(const std::string& path, std::uint32_t mask) {
    if (const int error = open(); error != 0)
        return {-1, error};
    const int watch = ::inotify_add_watch(descriptor_.native_handle(), path.c_str(), mask);
    if (watch < 0)
        return {-1, errno};
    return {watch, 0};
}

DirectoryWatch InotifyWatches::add_directory(const std::filesystem::path& directory,
                                             std::uint32_t mask) {
    std::filesystem::path at = directory.empty() ? std::filesystem::path(".") : directory;
    bool on_directory = true;
    while (true) {
        const WatchAdding added = add(at.string(), mask | IN_ONLYDIR);
        if (added.watch >= 0)
            return {added.watch, on_directory, 0};
        // Up only past what is missing; any other failure (EACCES, the
        // watch limit) would fail the same way further up or watch
        // something that cannot tell when it is fixed.
        const bool missing = added.error == ENOENT || added.error == ENOTDIR;
        std::filesystem::path parent = at.parent_path();
        if (parent.empty() && at.is_relative() && at != ".")
            parent = ".";
        if (!missing || parent.empty() || parent == at)
            return {-1, false, added.error};
        at = parent;
        on_directory = false;
    }
}

void InotifyWatches::remove(int watch) {
    if (!descriptor_.is_open())
        return;
    // EINVAL: the kernel removed it already (IN_IGNORED is on its way).
    ::inotify_rm_watch(descriptor_.native_handle(), watch);
}

void InotifyWatches::async_read_events(EventHandler handler) {
    waiting_ = std::move(handler);
    if (descriptor_.is_open())
        start_read();
}

void InotifyWatches::start_read() {
    descriptor_.async_read_some(
        boost::asio::buffer(buffer_.get(), buffer_bytes),
        [this, handler = std::exchange(waiting_, nullptr)](const boost::system::error_code& error,
                                                           std::size_t bytes) {
            if (error) {
                handler(error, {});
                return;
            }
            handler(error, parse_inotify_events(std::span<const char>(buffer_.get(), bytes)));
        });
}

void InotifyWatches::close() {
    closed_ = true;
    waiting_ = nullptr;
    boost::system::error_code ignored;
    descriptor_.close(ignored);
}

} // namespace exim_ban
