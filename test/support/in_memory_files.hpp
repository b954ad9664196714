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

  private:
    std::map<std::string, std::string> files_;
};

} // namespace exim_ban::testing
