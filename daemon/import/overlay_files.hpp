// A TextFileReader that shows one file other than the disk has it: with the
// text it is about to get, or as absent. import-fail2ban loads exim-ban's
// configuration without its earlier import and as it will be after this
// one, before it writes anything.
#pragma once

#include "filter/text_file_reader.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace exim_ban {

class OverlayFiles final : public TextFileReader {
  public:
    // `text` nullopt: `path` looks absent.
    OverlayFiles(const TextFileReader& base, std::filesystem::path path,
                 std::optional<std::string> text)
        : base_(base)
        , path_(std::move(path))
        , text_(std::move(text)) {}

    std::optional<std::string> read(const std::filesystem::path& path) const override;
    std::vector<std::filesystem::path> list(const std::filesystem::path& directory) const override;

  private:
    const TextFileReader& base_;
    std::filesystem::path path_;
    std::optional<std::string> text_;
};

} // namespace exim_ban
