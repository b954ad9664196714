#include "filter/regex_translation.hpp"

#include "core/regex_options.hpp"
#include "core/text.hpp"

#include <array>
#include <re2/re2.h>

namespace exim_ban {
namespace {

constexpr std::string_view ipv4_regex = R"((?:\d{1,3}\.){3}\d{1,3})";
constexpr std::string_view ipv6_regex =
    R"([0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?::(?:\d{1,3}\.){3}\d{1,3})?)";

struct Lookaround {
    std::string_view opener;
    std::string_view name;
};
constexpr std::array<Lookaround, 4> lookarounds{{
    {"(?<=", "(?<=...)"},
    {"(?<!", "(?<!...)"},
    {"(?=", "(?=...)"},
    {"(?!", "(?!...)"},
}};

// The text of the group that starts at `open` (an opening parenthesis), cut
// short for messages.
std::string group_excerpt(std::string_view pattern, std::size_t open) {
    int depth = 0;
    for (std::size_t i = open; i < pattern.size(); ++i) {
        if (pattern[i] == '\\') {
            ++i;
            continue;
        }
        if (pattern[i] == '(')
            ++depth;
        if (pattern[i] == ')' && --depth == 0) {
            std::string text(pattern.substr(open, i + 1 - open));
            if (text.size() > 40)
                text = text.substr(0, 37) + "...";
            return text;
        }
    }
    return std::string(pattern.substr(open, 20));
}

void reject_unsupported_constructs(std::string_view pattern) {
    bool in_class = false;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\') {
            ++i;
            continue;
        }
        if (in_class) {
            if (c == ']')
                in_class = false;
            continue;
        }
        if (c == '[') {
            in_class = true;
            // "[]...]" and "[^]...]": a leading ']' is a literal.
            if (i + 1 < pattern.size() && pattern[i + 1] == '^')
                ++i;
            if (i + 1 < pattern.size() && pattern[i + 1] == ']')
                ++i;
            continue;
        }
        if (c != '(')
            continue;
        const std::string_view rest = pattern.substr(i);
        for (const auto& look : lookarounds) {
            if (rest.starts_with(look.opener)) {
                throw RegexError("RE2 has no lookaround; rewrite without " +
                                 std::string(look.name) + " (found " + group_excerpt(pattern, i) +
                                 "): express the rule with character classes or by "
                                 "anchoring on the fixed text around it");
            }
        }
        if (rest.starts_with("(?P=")) {
            throw RegexError("RE2 has no backreferences; rewrite without " +
                             group_excerpt(pattern, i));
        }
        if (rest.starts_with("(?>")) {
            throw RegexError("RE2 has no atomic groups; rewrite " + group_excerpt(pattern, i) +
                             " as a plain group (?:...)");
        }
    }
}

} // namespace

std::string host_group_regex(std::string_view family) {
    std::string body;
    if (family == "4")
        body = ipv4_regex;
    else if (family == "6")
        body = ipv6_regex;
    else
        body = std::string(ipv4_regex) + '|' + std::string(ipv6_regex);
    return "(?P<" + std::string(host_group_name) + '>' + body + ')';
}

void check_re2_compiles(const std::string& re2_pattern) {
    const RE2 compiled(re2_pattern, regex_options());
    if (!compiled.ok())
        throw RegexError("RE2 cannot compile it: " + compiled.error() + " (at \"" +
                         compiled.error_arg() + "\")");
}

std::string translate_regex(std::string_view pattern, HostTag tags) {
    reject_unsupported_constructs(pattern);

    std::string out;
    out.reserve(pattern.size() + 128);
    int host_tags = 0;
    int open_fields = 0;
    for (std::size_t i = 0; i < pattern.size();) {
        const char c = pattern[i];
        if (c == '\\' && i + 1 < pattern.size()) {
            // Python's \Z is RE2's \z: the very end of the text.
            out += pattern[i + 1] == 'Z' ? std::string("\\z") : std::string(pattern.substr(i, 2));
            i += 2;
            continue;
        }
        if (c != '<') {
            out += c;
            ++i;
            continue;
        }
        const std::size_t close = pattern.find('>', i);
        const std::string_view tag = close == std::string_view::npos
                                         ? std::string_view{}
                                         : pattern.substr(i + 1, close - i - 1);
        if (tag == "HOST" || tag == "ADDR" || tag == "IP4" || tag == "IP6") {
            out += host_group_regex(tag == "IP4" ? "4" : tag == "IP6" ? "6" : "");
            ++host_tags;
        } else if (tag.starts_with("F-") && tag.size() > 2) {
            std::string name = "f_";
            for (char n : tag.substr(2))
                name += n == '-' ? '_' : lower(n);
            out += "(?P<" + name + '>';
            ++open_fields;
        } else if (tag.starts_with("/F-") && tag.size() > 3) {
            if (open_fields-- == 0)
                throw RegexError("<" + std::string(tag) + "> closes a field that was not opened");
            out += ')';
        } else if (tag == "SKIPLINES") {
            throw RegexError("<SKIPLINES> (multi-line matching) is not supported: match one line");
        } else if (tag == "CIDR" || tag == "SUBNET" || tag == "DNS") {
            throw RegexError("<" + std::string(tag) +
                             "> is not supported: use <HOST> (an IP literal)");
        } else {
            out += c;
            ++i;
            continue;
        }
        i = close + 1;
    }
    if (open_fields != 0)
        throw RegexError("a <F-...> field is not closed by its </F-...>");
    if (tags == HostTag::required && host_tags == 0)
        throw RegexError("no <HOST> tag: a failregex must say where the address is (<HOST>, "
                         "<ADDR>, <IP4> or <IP6>)");
    if (host_tags > 1)
        throw RegexError("more than one host tag: a line must name exactly one address");
    check_re2_compiles(out);
    return out;
}

} // namespace exim_ban
