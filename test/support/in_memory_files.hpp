// A TextFileReader over a map, so filter tests need no files on disk.
#pragma once

#include "filter/text_file_reader.hpp"

#include <map>
#include <string>

namespace exim_ban::testing {

class InMemoryFiles final : public TextFileReader {
  public:
    InMemoryFiles& add(const std::string& path, std::string text) {
        files_[path] = std::move(text);
        return *this;
    }
    std::optional<std::string> read(const std::filesystem::path& path) const override {
        auto found = files_.find(path.string());
        if (found == files_.end())
            return std::nullopt;
        return found->second;
    }

    std::vector<std::filesystem::path> list(const std::filesystem::path& directory) const override {
        std::vector<std::filesystem::path> found;
        const std::string prefix = directory.string() + '/';
        for (const auto& [path, text] : files_) {
            if (path.starts_with(prefix) && path.find('/', prefix.size()) == std::string::npos)
                found.emplace_back(path);
        }
        return found; // a std::map iterates in name order
    }

  private:
    std::map<std::string, std::string> files_;
};

} // namespace exim_ban::testing
