// Keeps the trust_file in step with the keys trusted now: the daemon hands
// it the keys every second and after each change it makes itself; it
// rewrites the file (replace_file: a reader sees the old one or the new one,
// whole) only when its text changes, and the first time in any case.
#pragma once

#include "core/ban_key.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace exim_ban {

class TrustFile {
  public:
    explicit TrustFile(std::filesystem::path path)
        : path_(std::move(path)) {}

    // Returns what failed (tried again at the next update), or nullopt.
    std::optional<std::string> update(std::vector<BanKey> keys);

    std::uint64_t writes() const { return writes_; }

  private:
    std::filesystem::path path_;
    std::optional<std::string> written_;
    std::uint64_t writes_ = 0;
};

} // namespace exim_ban
