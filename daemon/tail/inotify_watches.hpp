// The tailer's inotify instance on the io_context: watches added by path
// and removed, events read asynchronously and parsed. The kernel keeps one
// watch per inode per instance: adding a path whose inode is watched
// already returns that watch (with the new mask), so callers that share a
// watch must not remove it while another uses it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace exim_ban {

struct InotifyEvent {
    int watch = -1; // -1 with IN_Q_OVERFLOW
    std::uint32_t mask = 0;
    std::string name; // of the entry, for a directory's watch; empty otherwise
};

// The events in `bytes` as one read() of an inotify descriptor returns
// them; a truncated last event (never made by the kernel) is dropped.
std::vector<InotifyEvent> parse_inotify_events(std::span<const char> bytes);

struct WatchAdding {
    int watch = -1; // set when added
    int error = 0;  // otherwise errno
};

// A directory watch, or the watch on its nearest existing ancestor while it
// does not exist.
struct DirectoryWatch {
    int watch = -1;
    bool on_directory = false; // false: on an ancestor, or nothing (watch -1)
    int error = 0;             // watch -1: why not even an ancestor could be watched
};

class InotifyWatches {
  public:
    using EventHandler =
        std::function<void(const boost::system::error_code&, std::vector<InotifyEvent>)>;

    // Throws std::system_error when inotify cannot be set up (no inotify in
    // the kernel). An instance refused for a limit (EMFILE, ENFILE) is asked
    // for again at each add(), which returns that error until then.
    explicit InotifyWatches(boost::asio::io_context& io);
    ~InotifyWatches();
    InotifyWatches(const InotifyWatches&) = delete;
    InotifyWatches& operator=(const InotifyWatches&) = delete;

    WatchAdding add(const std::string& path, std::uint32_t mask);
    // `directory` if it exists, else its nearest existing ancestor.
    DirectoryWatch add_directory(const std::filesystem::path& directory, std::uint32_t mask);
    // A watch the kernel dropped already (its file is gone) is no error.
    void remove(int watch);

    // Calls `handler` once, on the io_context, with the next events read
    // (or the read's error; operation_aborted after close()). Without an
    // instance yet, the read starts when add() gets one.
    void async_read_events(EventHandler handler);
    void close();

  private:
    // Gets an instance if there is none; returns 0 or why not.
    int open();
    void start_read();

    boost::asio::posix::stream_descriptor descriptor_;
    bool closed_ = false;
    EventHandler waiting_; // a read asked for before there was an instance
    // Room for many events; one event needs at most sizeof(inotify_event)
    // + NAME_MAX + 1 bytes.
    std::unique_ptr<char[]> buffer_;
};

} // namespace exim_ban
