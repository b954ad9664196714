#include "filter/patterns_file.hpp"

#include "core/load_error.hpp"
#include "core/text.hpp"
#include "filter/regex_translation.hpp"

namespace exim_ban {
namespace {

constexpr std::string_view ip_placeholder = "__IP__";

} // namespace

LoadedFilter parse_patterns_file(std::string_view text, const std::string& file) {
    LoadedFilter filter;
    filter.name = file;
    filter.source = file;
    for_each_line(text, [&](std::string_view raw, int line_number) {
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#')
            return;

        const std::size_t at = line.find(ip_placeholder);
        if (at == std::string_view::npos ||
            line.find(ip_placeholder, at + 1) != std::string_view::npos)
            throw LoadError(file, line_number,
                            "pattern \"" + std::string(line) +
                                "\" must hold __IP__ exactly once, where the address stands");
        std::string written(line);
        written.replace(at, ip_placeholder.size(), "<HOST>");
        try {
            filter.failregex.push_back(
                {written, translate_regex(written, HostTag::required), file, line_number});
        } catch (const RegexError& error) {
            throw LoadError(file, line_number,
                            "pattern \"" + std::string(line) + "\": " + error.what());
        }
        if (line.front() != '^')
            filter.warnings.push_back(file + ':' + std::to_string(line_number) +
                                      ": pattern is not anchored with '^': text the client sends "
                                      "earlier in a log line could supply the address");
    });
    if (filter.failregex.empty())
        throw LoadError(file, 0,
                        "holds no pattern: add one regex a line with __IP__ for the address");
    return filter;
}

} // namespace exim_ban
