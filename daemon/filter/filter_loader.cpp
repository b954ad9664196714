#include "filter/filter_loader.hpp"

#include "core/ini_document.hpp"
#include "core/load_error.hpp"
#include "core/text.hpp"
#include "filter/filter_sections.hpp"
#include "filter/ini_includes.hpp"
#include "filter/patterns_file.hpp"
#include "filter/regex_translation.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace exim_ban {
namespace {

constexpr int max_tag_rounds = 32;
const std::string parameters_origin = "filter parameters";

bool is_tag_char(char c) {
    return is_letter(c) || is_digit(c) || c == '_' || c == '-' || c == '.' || c == '/';
}

using Options = std::map<std::string, IniValue>;

// Replaces <name> and <section/name> tags that name an option or a section
// value, innermost first ("<mdre-<mode>>"), until none is left to replace.
IniValue expand_tags(const IniValue& value, const Options& options,
                     const FilterSections& sections) {
    IniValue current = value;
    for (int round = 0; round < max_tag_rounds; ++round) {
        bool replaced = false;
        current = substitute_references(
            current,
            [&](const SourceLine& line, std::size_t from) -> std::optional<ValueReference> {
                const std::string& text = line.text;
                for (std::size_t open = text.find('<', from); open != std::string::npos;
                     open = text.find('<', open + 1)) {
                    std::size_t end = open + 1;
                    while (end < text.size() && is_tag_char(text[end]))
                        ++end;
                    if (end == open + 1 || end >= text.size() || text[end] != '>')
                        continue;
                    const std::string name = text.substr(open + 1, end - open - 1);
                    if (auto option = options.find(name); option != options.end()) {
                        replaced = true;
                        return ValueReference{open, end + 1, option->second};
                    }
                    if (const auto slash = name.find('/');
                        slash != std::string::npos && slash > 0) {
                        const std::string section = name.substr(0, slash);
                        if (sections.has_section(section)) {
                            if (sections.raw(section, name.substr(slash + 1)) != nullptr) {
                                replaced = true;
                                return ValueReference{
                                    open, end + 1,
                                    sections.interpolated(section, name.substr(slash + 1))};
                            }
                        }
                    }
                }
                return std::nullopt;
            });
        if (!replaced)
            return current;
    }
    throw LoadError(value.front().file, value.front().line,
                    "tags nest more than " + std::to_string(max_tag_rounds) +
                        " deep: does a tag refer to itself?");
}

// An unreplaced tag-like "<name>" left in a pattern, for a better message.
std::optional<std::string> leftover_tag(const std::string& pattern) {
    for (std::size_t open = pattern.find('<'); open != std::string::npos;
         open = pattern.find('<', open + 1)) {
        std::size_t end = open + 1;
        while (end < pattern.size() && is_tag_char(pattern[end]))
            ++end;
        if (end > open + 1 && end < pattern.size() && pattern[end] == '>') {
            const std::string name = pattern.substr(open + 1, end - open - 1);
            if (name != "HOST" && name != "ADDR" && name != "IP4" && name != "IP6" &&
                !name.starts_with("F-") && !name.starts_with("/F-"))
                return name;
        }
    }
    return std::nullopt;
}

std::vector<FilterPattern> compile_patterns(const IniValue& value, HostTag tags,
                                            const std::string& key,
                                            const FilterSections& sections) {
    std::vector<FilterPattern> patterns;
    for (const auto& line : value) {
        const std::string written(trim(line.text));
        if (written.empty())
            continue;
        try {
            patterns.push_back({written, translate_regex(written, tags), line.file, line.line});
        } catch (const RegexError& error) {
            std::string message = key + " \"" + written + "\": " + error.what();
            if (auto tag = leftover_tag(written))
                message += "; <" + *tag +
                           "> names nothing: check the filter's parameters (e.g. mode=normal, more "
                           "or aggressive)";
            const std::string what = error.what();
            if (const auto found = what.find("(found "); found != std::string::npos) {
                const std::string construct =
                    what.substr(found + 7, std::min<std::size_t>(4, what.size() - found - 7));
                if (auto origin = sections.find_written(construct))
                    message += "; the construct is written at " + *origin;
            }
            throw LoadError(line.file, line.line, message);
        }
    }
    return patterns;
}

LoadedFilter load_conf_filter(const FilterSpec& spec, const std::filesystem::path& conf,
                              const TextFileReader& files) {
    FilterSections sections;
    IniIncludeReader includes(files, sections);
    includes.read(conf, true, "");
    std::filesystem::path local = conf;
    local.replace_extension(".local");
    if (local != conf)
        includes.read(local, false, "");

    // fail2ban's precedence: [Definition], then [Init], then the parameters.
    Options options;
    for (const auto& key : sections.keys("Definition"))
        options[key] = sections.interpolated("Definition", key);
    for (const auto& key : sections.keys("Init"))
        options[key] = sections.interpolated("Init", key);
    for (const auto& [key, value] : spec.parameters) {
        if (!options.contains(key)) {
            std::string known;
            for (const auto& [name, unused] : options) {
                if (!name.starts_with('_') && name != "failregex" && name != "ignoreregex" &&
                    name != "prefregex" && name != "successregex")
                    known += (known.empty() ? "" : ", ") + name;
            }
            throw LoadError(conf.string(), 0,
                            "filter parameter \"" + key +
                                "\" is not used by this filter (it knows: " + known + ')');
        }
        options[key] = {{value, parameters_origin, 0}};
    }

    LoadedFilter filter;
    filter.name = spec.to_string();
    filter.source = conf.string();
    auto value_of = [&](const std::string& key) {
        auto found = options.find(key);
        return found == options.end() ? IniValue{} : expand_tags(found->second, options, sections);
    };
    filter.failregex =
        compile_patterns(value_of("failregex"), HostTag::required, "failregex", sections);
    filter.ignoreregex =
        compile_patterns(value_of("ignoreregex"), HostTag::optional, "ignoreregex", sections);
    filter.successregex =
        compile_patterns(value_of("successregex"), HostTag::required, "successregex", sections);
    for (const auto& pattern : filter.successregex) {
        if (pattern.written.find("<F-USER>") == std::string::npos)
            throw LoadError(pattern.file, pattern.line,
                            "successregex \"" + pattern.written +
                                "\" needs <F-USER>...</F-USER> around the account that logged in");
    }
    auto prefregex =
        compile_patterns(value_of("prefregex"), HostTag::optional, "prefregex", sections);
    if (prefregex.size() > 1)
        throw LoadError(prefregex[1].file, prefregex[1].line, "prefregex must be a single line");
    if (!prefregex.empty()) {
        if (prefregex.front().written.find("<F-CONTENT>") == std::string::npos)
            throw LoadError(
                prefregex.front().file, prefregex.front().line,
                "prefregex needs <F-CONTENT>...</F-CONTENT> around the part the failregexes match");
        filter.prefregex = prefregex.front();
    }
    if (filter.failregex.empty())
        throw LoadError(conf.string(), 0, "defines no failregex in [Definition]");
    if (const IniValue journalmatch = value_of("journalmatch"); !journalmatch.empty()) {
        const std::string text = join_lines(journalmatch);
        JournalMatchParse parsed = parse_journal_match(text);
        if (!parsed.match)
            throw LoadError(journalmatch.front().file, journalmatch.front().line,
                            "journalmatch = " + text + ": " + parsed.error);
        filter.journalmatch = std::move(parsed.match);
        const SourceLine& where = journalmatch.front();
        filter.journalmatch_origin =
            where.line > 0 ? where.file + ':' + std::to_string(where.line) : where.file;
    }
    if (const IniValue format = value_of("logformat"); !format.empty()) {
        const std::string text = join_lines(format);
        const std::optional<LogFormat> parsed = parse_log_format(text);
        if (!parsed)
            throw LoadError(format.front().file, format.front().line,
                            "logformat = " + text + ": not a log format (exim or dovecot)");
        filter.log_format = *parsed;
    }
    return filter;
}

} // namespace

LineMatcherPatterns LoadedFilter::matcher_patterns() const {
    LineMatcherPatterns patterns;
    if (prefregex)
        patterns.prefregex = prefregex->re2;
    for (const auto& pattern : failregex)
        patterns.failregex.push_back(pattern.re2);
    for (const auto& pattern : ignoreregex)
        patterns.ignoreregex.push_back(pattern.re2);
    return patterns;
}

std::optional<LineMatcherPatterns> LoadedFilter::success_patterns() const {
    if (successregex.empty())
        return std::nullopt;
    LineMatcherPatterns patterns;
    if (prefregex)
        patterns.prefregex = prefregex->re2;
    for (const auto& pattern : successregex)
        patterns.failregex.push_back(pattern.re2);
    return patterns;
}

LoadedFilter load_filter(const FilterSpec& spec, const std::filesystem::path& filters_dir,
                         const TextFileReader& files) {
    std::filesystem::path path;
    if (spec.is_path()) {
        path = spec.name;
    } else {
        const bool plausible = std::all_of(spec.name.begin(), spec.name.end(),
                                           [](char c) { return is_tag_char(c) && c != '/'; });
        if (!plausible)
            throw LoadError(spec.name, 0,
                            "is not a filter name (letters, digits, '-', '_' and '.')");
        path = filters_dir / (spec.name + ".conf");
        if (!files.read(path)) {
            path = filters_dir / (spec.name + ".patterns");
            if (!files.read(path))
                throw LoadError(spec.name, 0,
                                "no filter " + spec.name + ".conf or " + spec.name +
                                    ".patterns in " + filters_dir.string() +
                                    "; give --filters-dir or a path to the file");
        }
    }

    if (path.extension() == ".patterns") {
        if (!spec.parameters.empty())
            throw LoadError(path.string(), 0, "a .patterns file takes no parameters");
        const std::optional<std::string> text = files.read(path);
        if (!text)
            throw LoadError(path.string(), 0, "no such file");
        LoadedFilter filter = parse_patterns_file(*text, path.string());
        filter.name = spec.name;
        return filter;
    }
    return load_conf_filter(spec, path, files);
}

} // namespace exim_ban
