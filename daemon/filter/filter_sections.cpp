#include "filter/filter_sections.hpp"

#include "core/load_error.hpp"

#include <algorithm>

namespace exim_ban {
namespace {

constexpr int max_interpolation_depth = 20;
const std::string default_section = "DEFAULT";

// The next "%(name)s" at or after `from`; "%%" is a literal '%'.
struct PercentReference {
    std::size_t begin, end;
    std::string name; // empty for "%%"
};

std::optional<PercentReference> next_percent(const std::string& text, std::size_t from,
                                             const SourceLine& where) {
    const std::size_t begin = text.find('%', from);
    if (begin == std::string::npos)
        return std::nullopt;
    if (text.compare(begin, 2, "%%") == 0)
        return PercentReference{begin, begin + 2, ""};
    if (text.compare(begin, 2, "%(") != 0)
        throw LoadError(where.file, where.line,
                        "a lone '%' in \"" + text +
                            "\": write %% for a percent sign, %(name)s to use a value");
    const std::size_t close = text.find(")s", begin);
    if (close == std::string::npos)
        throw LoadError(where.file, where.line,
                        "\"%(\" without its closing \")s\" in \"" + text + '"');
    return PercentReference{begin, close + 2, text.substr(begin + 2, close - begin - 2)};
}

} // namespace

void FilterSections::merge(const IniDocument& document) {
    for (const auto& section : document.sections) {
        auto& target = sections_[section.name];
        for (const auto& entry : section.entries) {
            auto previous = target.find(entry.key);
            if (previous == target.end()) {
                target[entry.key] = entry.value;
                continue;
            }
            const std::string known = "%(known/" + entry.key + ")s";
            const IniValue earlier = previous->second;
            previous->second = substitute_references(
                entry.value,
                [&](const SourceLine& line, std::size_t from) -> std::optional<ValueReference> {
                    const std::size_t begin = line.text.find(known, from);
                    if (begin == std::string::npos)
                        return std::nullopt;
                    return ValueReference{begin, begin + known.size(), earlier};
                });
        }
    }
}

std::vector<std::string> FilterSections::section_names() const {
    std::vector<std::string> names;
    for (const auto& [name, entries] : sections_)
        names.push_back(name);
    return names;
}

const IniValue* FilterSections::raw(const std::string& section, const std::string& key) const {
    for (const std::string* name : {&section, &default_section}) {
        auto found = sections_.find(*name);
        if (found == sections_.end())
            continue;
        auto value = found->second.find(key);
        if (value != found->second.end())
            return &value->second;
    }
    return nullptr;
}

std::vector<std::string> FilterSections::keys(const std::string& section) const {
    std::vector<std::string> names;
    for (const std::string* name : {&section, &default_section}) {
        auto found = sections_.find(*name);
        if (found == sections_.end())
            continue;
        for (const auto& [key, value] : found->second) {
            if (std::find(names.begin(), names.end(), key) == names.end())
                names.push_back(key);
        }
    }
    return names;
}

IniValue FilterSections::interpolated(const std::string& section, const std::string& key) const {
    const IniValue* value = raw(section, key);
    if (value == nullptr)
        return {};
    return interpolate(section, *value, 0);
}

IniValue FilterSections::interpolate(const std::string& section, const IniValue& value,
                                     int depth) const {
    return substitute_references(
        value, [&](const SourceLine& where, std::size_t from) -> std::optional<ValueReference> {
            auto reference = next_percent(where.text, from, where);
            if (!reference)
                return std::nullopt;
            if (reference->name.empty())
                return ValueReference{
                    reference->begin, reference->end, {{"%", where.file, where.line}}};
            if (depth >= max_interpolation_depth)
                throw LoadError(where.file, where.line,
                                "%(" + reference->name +
                                    ")s nests too deep: does a value refer to itself?");

            std::string target_section = section;
            std::string target_key = reference->name;
            if (const auto slash = target_key.find('/'); slash != std::string::npos) {
                target_section = target_key.substr(0, slash);
                target_key = target_key.substr(slash + 1);
            }
            const IniValue* target = raw(target_section, target_key);
            if (target == nullptr)
                throw LoadError(where.file, where.line,
                                "%(" + reference->name + ")s is not defined in [" + target_section +
                                    "] or [DEFAULT]; define it or correct the name");
            return ValueReference{reference->begin, reference->end,
                                  interpolate(target_section, *target, depth + 1)};
        });
}

std::optional<std::string> FilterSections::find_written(std::string_view text) const {
    for (const auto& [section, entries] : sections_) {
        for (const auto& [key, value] : entries) {
            for (const auto& line : value) {
                if (line.text.find(text) != std::string::npos)
                    return line.file + ':' + std::to_string(line.line) + " (" + key + ")";
            }
        }
    }
    return std::nullopt;
}

} // namespace exim_ban
