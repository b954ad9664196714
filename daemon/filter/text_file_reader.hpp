// Where the filter loader gets file contents from: the disk in the programs,
// a map in the tests.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace exim_ban {

class TextFileReader {
  public:
    virtual ~TextFileReader() = default;
    // The whole file; nullopt when it does not exist. Throws LoadError when it
    // exists but cannot be read (permissions, a directory, an I/O error).
    virtual std::optional<std::string> read(const std::filesystem::path& path) const = 0;
    // The regular files in `directory`, sorted by name; empty when it does not
    // exist. Throws LoadError when it exists but cannot be listed.
    virtual std::vector<std::filesystem::path>
    list(const std::filesystem::path& directory) const = 0;
};

class DiskTextFileReader final : public TextFileReader {
  public:
    std::optional<std::string> read(const std::filesystem::path& path) const override;
    std::vector<std::filesystem::path> list(const std::filesystem::path& directory) const override;
};

} // namespace exim_ban
