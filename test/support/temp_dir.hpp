// A fresh directory under the system's temporary directory, removed with
// everything in it when the object goes.
#pragma once

#include <filesystem>
#include <string>
#include <unistd.h>

namespace exim_ban::testing {

class TempDir {
  public:
    TempDir() {
        path_ = std::filesystem::temp_directory_path() /
                ("exim-ban-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

    // A config directory: filters.d pointing at the source tree's filters.
    void link_shipped_filters(const std::filesystem::path& filters) const {
        std::filesystem::create_directory_symlink(filters, path_ / "filters.d");
    }

  private:
    static inline int counter_ = 0;
    std::filesystem::path path_;
};

} // namespace exim_ban::testing
