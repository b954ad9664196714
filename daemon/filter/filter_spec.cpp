#include "filter/filter_spec.hpp"

#include "core/text.hpp"

#include <stdexcept>

namespace exim_ban {
namespace {

std::string_view unquote(std::string_view text) {
    if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') &&
        text.back() == text.front())
        return text.substr(1, text.size() - 2);
    return text;
}

} // namespace

bool FilterSpec::is_path() const {
    return name.find('/') != std::string::npos || name.ends_with(".conf") ||
           name.ends_with(".local") || name.ends_with(".patterns");
}

std::string FilterSpec::to_string() const {
    std::string text = name;
    if (parameters.empty())
        return text;
    text += '[';
    for (const auto& [key, value] : parameters) {
        if (text.back() != '[')
            text += ", ";
        text += key + '=' + value;
    }
    return text + ']';
}

FilterSpec parse_filter_spec(std::string_view text) {
    text = trim(text);
    FilterSpec spec;
    const std::size_t open = text.find('[');
    spec.name = std::string(trim(text.substr(0, open)));
    if (spec.name.empty())
        throw std::invalid_argument("filter \"" + std::string(text) + "\" has no name");
    if (open == std::string_view::npos)
        return spec;
    if (text.back() != ']')
        throw std::invalid_argument("filter \"" + std::string(text) +
                                    "\": parameters must end with ']', as in exim[mode=more]");

    // Values may be quoted to hold ',' or ']'.
    const std::string_view inside = text.substr(open + 1, text.size() - open - 2);
    std::size_t pos = 0;
    while (pos < inside.size()) {
        std::size_t end = pos;
        char quote = 0;
        for (; end < inside.size(); ++end) {
            const char c = inside[end];
            if (quote != 0) {
                if (c == quote)
                    quote = 0;
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == ',') {
                break;
            }
        }
        const std::string_view item = trim(inside.substr(pos, end - pos));
        pos = end + 1;
        if (item.empty())
            continue;
        const std::size_t equals = item.find('=');
        if (equals == std::string_view::npos || trim(item.substr(0, equals)).empty())
            throw std::invalid_argument("filter \"" + std::string(text) + "\": parameter \"" +
                                        std::string(item) + "\" needs the form key=value");
        spec.parameters[std::string(trim(item.substr(0, equals)))] =
            std::string(unquote(trim(item.substr(equals + 1))));
    }
    return spec;
}

} // namespace exim_ban
