#include "core/line_matcher.hpp"

#include "core/regex_options.hpp"

#include <algorithm>
#include <stdexcept>

namespace exim_ban {
namespace {

constexpr int max_set_memory = 64 << 20;

int group_index(const RE2& regex, const std::string& name) {
    const auto& groups = regex.NamedCapturingGroups();
    auto found = groups.find(name);
    if (found == groups.end())
        throw std::invalid_argument("pattern has no group \"" + name + "\": " + regex.pattern());
    return found->second;
}

std::unique_ptr<RE2> compile(const std::string& pattern) {
    auto regex = std::make_unique<RE2>(pattern, regex_options());
    if (!regex->ok())
        throw std::invalid_argument("pattern does not compile: " + regex->error() + ": " + pattern);
    return regex;
}

} // namespace

bool is_start_anchored(std::string_view pattern) {
    if (!pattern.starts_with('^'))
        return false;
    int depth = 0;
    bool in_class = false;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\') {
            ++i;
        } else if (in_class) {
            in_class = c != ']';
        } else if (c == '[') {
            in_class = true;
            if (i + 1 < pattern.size() && pattern[i + 1] == '^')
                ++i;
            if (i + 1 < pattern.size() && pattern[i + 1] == ']')
                ++i;
        } else if (c == '(') {
            ++depth;
        } else if (c == ')') {
            --depth;
        } else if (c == '|' && depth == 0) {
            return false;
        }
    }
    return true;
}

LineMatcher::LineMatcher(const LineMatcherPatterns& patterns) {
    if (patterns.prefregex) {
        prefregex_ = compile(*patterns.prefregex);
        content_group_ = group_index(*prefregex_, "f_content");
    }
    const bool anchored = std::all_of(patterns.failregex.begin(), patterns.failregex.end(),
                                      [](const std::string& p) { return is_start_anchored(p); });
    RE2::Options options = regex_options();
    options.set_max_mem(max_set_memory);
    set_ = std::make_unique<RE2::Set>(options, anchored ? RE2::ANCHOR_START : RE2::UNANCHORED);
    for (const auto& pattern : patterns.failregex) {
        std::string error;
        if (set_->Add(pattern, &error) < 0)
            throw std::invalid_argument("pattern does not compile: " + error + ": " + pattern);
        auto regex = compile(pattern);
        const int host = group_index(*regex, "host");
        failregex_.push_back({std::move(regex), host});
    }
    if (!set_->Compile())
        throw std::invalid_argument("the filter's patterns together exceed RE2's memory budget");
    for (const auto& pattern : patterns.ignoreregex)
        ignoreregex_.push_back(compile(pattern));
}

LineMatcher::~LineMatcher() = default;
LineMatcher::LineMatcher(LineMatcher&&) noexcept = default;
LineMatcher& LineMatcher::operator=(LineMatcher&&) noexcept = default;

std::optional<LineMatch> LineMatcher::extract(std::size_t index, std::string_view text) const {
    const Compiled& pattern = failregex_[index];
    // Group 0 plus every group up to the host's.
    re2::StringPiece groups[16];
    std::vector<re2::StringPiece> more;
    const int count = pattern.host_group + 1;
    re2::StringPiece* slots = groups;
    if (count > 16) {
        more.resize(static_cast<std::size_t>(count));
        slots = more.data();
    }
    if (!pattern.regex->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(),
                              RE2::UNANCHORED, slots, count))
        return std::nullopt;
    const re2::StringPiece host = slots[pattern.host_group];
    LineMatch match;
    match.pattern = index;
    if (auto address = IpAddress::parse(std::string_view(host.data(), host.size()))) {
        match.kind = LineMatch::Kind::hit;
        match.host = *address;
    } else {
        match.kind = LineMatch::Kind::invalid_host;
    }
    return match;
}

LineMatch LineMatcher::match(std::string_view message) const {
    std::string_view text = message;
    if (prefregex_) {
        re2::StringPiece groups[8];
        const int count = std::min(content_group_ + 1, 8);
        if (content_group_ >= 8 ||
            !prefregex_->Match(re2::StringPiece(message.data(), message.size()), 0, message.size(),
                               RE2::UNANCHORED, groups, count))
            return {};
        text = std::string_view(groups[content_group_].data(), groups[content_group_].size());
    }

    std::vector<int> matched;
    RE2::Set::ErrorInfo error{};
    if (!set_->Match(re2::StringPiece(text.data(), text.size()), &matched, &error)) {
        if (error.kind == RE2::Set::kNoError)
            return {};
        // The DFA ran out of memory on a pathological line: fall back to the
        // patterns one by one rather than lose the line.
        matched.clear();
        for (std::size_t i = 0; i < failregex_.size(); ++i) {
            if (RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *failregex_[i].regex))
                matched.push_back(static_cast<int>(i));
        }
        if (matched.empty())
            return {};
    }
    std::sort(matched.begin(), matched.end());

    // The first pattern in the filter's order that yields a host wins.
    std::optional<LineMatch> result;
    for (int index : matched) {
        auto candidate = extract(static_cast<std::size_t>(index), text);
        if (candidate && (!result || candidate->kind == LineMatch::Kind::hit)) {
            result = candidate;
            if (result->kind == LineMatch::Kind::hit)
                break;
        }
    }
    if (!result)
        return {};
    for (const auto& ignore : ignoreregex_) {
        if (RE2::PartialMatch(re2::StringPiece(message.data(), message.size()), *ignore)) {
            result->kind = LineMatch::Kind::ignored;
            break;
        }
    }
    return *result;
}

} // namespace exim_ban
