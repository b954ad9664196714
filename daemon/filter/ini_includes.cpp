#include "filter/ini_includes.hpp"

#include "core/ini_document.hpp"
#include "core/load_error.hpp"
#include "core/text.hpp"

#include <algorithm>

namespace exim_ban {
namespace {

constexpr int max_include_depth = 10;

} // namespace

void IniIncludeReader::read(const std::filesystem::path& path, bool required,
                            const std::string& included_from) {
    if (stack_.size() >= max_include_depth ||
        std::find(stack_.begin(), stack_.end(), path) != stack_.end())
        throw LoadError(included_from, 0, "includes " + path.string() + " again: an include loop");
    const std::optional<std::string> text = files_.read(path);
    if (!text) {
        if (required)
            throw LoadError(included_from.empty() ? path.string() : included_from, 0,
                            (included_from.empty()
                                 ? "no such file"
                                 : "includes " + path.string() + ", which does not exist"));
        return;
    }
    stack_.push_back(path);
    IniDocument document = parse_ini(*text, path.string());

    std::vector<SourceLine> before, after;
    for (auto section = document.sections.begin(); section != document.sections.end();) {
        if (section->name != "INCLUDES") {
            ++section;
            continue;
        }
        for (const auto& entry : section->entries) {
            auto& list = entry.key == "before" ? before : after;
            if (entry.key != "before" && entry.key != "after")
                throw LoadError(path.string(), entry.value.front().line,
                                "[INCLUDES] knows only \"before\" and \"after\", not \"" +
                                    entry.key + '"');
            for (const auto& line : entry.value) {
                std::string_view rest = line.text;
                while (!(rest = trim(rest)).empty()) {
                    const std::size_t space = rest.find_first_of(" \t");
                    list.push_back({std::string(rest.substr(0, space)), line.file, line.line});
                    rest =
                        space == std::string_view::npos ? std::string_view{} : rest.substr(space);
                }
            }
        }
        section = document.sections.erase(section);
    }

    for (const auto& include : before)
        read_include(path, include);
    read_.push_back(path);
    sections_.merge(document);
    for (const auto& include : after)
        read_include(path, include);
    stack_.pop_back();
}

void IniIncludeReader::read_include(const std::filesystem::path& from, const SourceLine& include) {
    // A missing .local is normal (it holds the admin's overrides, if any).
    const std::filesystem::path target = from.parent_path() / include.text;
    read(target, !include.text.ends_with(".local"),
         include.file + ':' + std::to_string(include.line));
}

} // namespace exim_ban
