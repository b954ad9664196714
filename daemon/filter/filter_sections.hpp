// The merged sections of a filter's files (NAME.conf, its includes,
// NAME.local), with fail2ban's value interpolation: "%(key)s" from the same
// section or [DEFAULT], "%(section/key)s" from another section, and
// "%(known/key)s" in an override for the value it replaces.
#pragma once

#include "core/ini_document.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exim_ban {

class FilterSections {
  public:
    // Lays a document's sections over what is there, key by key.
    void merge(const IniDocument& document);

    bool has_section(const std::string& section) const { return sections_.contains(section); }
    // Every section's name, in name order.
    std::vector<std::string> section_names() const;
    // The raw value from `section`, else from [DEFAULT]; nullptr if neither has it.
    const IniValue* raw(const std::string& section, const std::string& key) const;
    // Keys of `section` together with those of [DEFAULT].
    std::vector<std::string> keys(const std::string& section) const;

    // The value with every %(...)s expanded; throws LoadError at the line
    // that refers to an undefined key or to itself.
    IniValue interpolated(const std::string& section, const std::string& key) const;

    // Where `text` was written in a raw value ("file:line (key)"), to point
    // an error at the definition rather than at the pattern that used it.
    std::optional<std::string> find_written(std::string_view text) const;

  private:
    IniValue interpolate(const std::string& section, const IniValue& value, int depth) const;

    std::map<std::string, std::map<std::string, IniValue>> sections_;
};

// Replaces references in a value. `next(line, from)` returns the next
// reference at or after `from` in a line: where it begins and ends in the
// line's text, and the value it stands for. A multi-line replacement splits
// the line, and each line keeps the file and line it was written on. A line
// that is one reference and nothing else takes the origin of what it stands
// for; a reference among other text leaves the line where it was written,
// so that patterns built on a shared prefix keep origins of their own.
struct ValueReference {
    std::size_t begin;
    std::size_t end;
    IniValue replacement;
};

inline bool only_blanks(const std::string& text, std::size_t from, std::size_t to) {
    return text.find_first_not_of(" \t", from) >= to;
}

template <class Next>
IniValue substitute_references(const IniValue& value, Next&& next) {
    IniValue out;
    for (const auto& line : value) {
        SourceLine current{"", line.file, line.line};
        std::size_t pos = 0;
        while (std::optional<ValueReference> reference = next(line, pos)) {
            current.text += line.text.substr(pos, reference->begin - pos);
            const IniValue& replacement = reference->replacement;
            for (std::size_t i = 0; i < replacement.size(); ++i) {
                if (i > 0) {
                    out.push_back(std::move(current));
                    current = SourceLine{"", replacement[i].file, replacement[i].line};
                } else if (current.text.empty() && only_blanks(line.text, 0, reference->begin) &&
                           only_blanks(line.text, reference->end, line.text.size())) {
                    current.file = replacement[i].file;
                    current.line = replacement[i].line;
                }
                current.text += replacement[i].text;
            }
            pos = reference->end;
        }
        current.text += line.text.substr(pos);
        out.push_back(std::move(current));
    }
    return out;
}

} // namespace exim_ban
