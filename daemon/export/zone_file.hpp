// Replaces a file's content so that a reader (rbldnsd) sees the old file or
// the new one, whole, and a crash leaves one of the two on disk.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace exim_ban {

// Writes `content` to a temporary file beside `path` (mode 0644), fsyncs
// it, renames it over `path` and fsyncs the directory. Returns what failed
// (with the path and errno's text), or nullopt. A failure before the
// rename leaves `path` as it was and removes the temporary file.
std::optional<std::string> replace_file(const std::filesystem::path& path,
                                        std::string_view content);

} // namespace exim_ban
