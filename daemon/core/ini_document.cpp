#include "core/ini_document.hpp"

#include "core/load_error.hpp"
#include "core/text.hpp"

namespace exim_ban {
namespace {

// ConfigParser's inline comment rule: ';' at the start or after white space.
std::string_view strip_inline_comment(std::string_view line) {
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == ';' && (i == 0 || is_blank(line[i - 1])))
            return line.substr(0, i);
    }
    return line;
}

} // namespace

IniDocument parse_ini(std::string_view text, const std::string& file) {
    IniDocument document{file, {}};
    IniEntry* current = nullptr;
    std::size_t key_indent = std::string_view::npos;
    // Trailing blank lines end a value rather than belong to it.
    auto finish_current = [&] {
        if (current != nullptr) {
            while (current->value.size() > 1 && current->value.back().text.empty())
                current->value.pop_back();
        }
        current = nullptr;
    };

    for_each_line(text, [&](std::string_view raw, int line_number) {
        const std::string_view stripped = trim(raw);
        if (stripped.starts_with('#') || stripped.starts_with(';'))
            return;
        const std::string_view value = trim(strip_inline_comment(raw));
        if (value.empty()) {
            // A blank line inside a value is kept, as ConfigParser does.
            if (current != nullptr && stripped.empty())
                current->value.push_back({"", file, line_number});
            return;
        }

        std::size_t indent = 0;
        while (indent < raw.size() && is_blank(raw[indent]))
            ++indent;
        if (current != nullptr && key_indent != std::string_view::npos && indent > key_indent) {
            current->value.push_back({std::string(value), file, line_number});
            return;
        }
        finish_current();
        key_indent = indent;

        if (value.front() == '[' && value.back() == ']' && value.size() > 2) {
            document.sections.push_back(
                {std::string(value.substr(1, value.size() - 2)), line_number, {}});
            return;
        }

        const std::size_t delimiter = value.find_first_of("=:");
        if (delimiter == std::string_view::npos || delimiter == 0)
            throw LoadError(file, line_number,
                            "expected \"[section]\" or \"key = value\", found \"" +
                                std::string(value) + '"');
        if (document.sections.empty())
            throw LoadError(file, line_number,
                            "\"" + std::string(trim(value.substr(0, delimiter))) +
                                "\" stands before any [section]; add a section header above it");

        auto& entries = document.sections.back().entries;
        entries.push_back({std::string(trim(value.substr(0, delimiter))),
                           {{std::string(trim(value.substr(delimiter + 1))), file, line_number}}});
        current = &entries.back();
    });
    finish_current();
    return document;
}

std::string join_lines(const IniValue& value) {
    std::string text;
    for (const auto& line : value) {
        if (&line != &value.front())
            text += '\n';
        text += line.text;
    }
    return text;
}

} // namespace exim_ban
