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

// Calls `visit(index, depth)` for each character of `pattern` that is
// outside escapes and character classes; stops when it returns false.
template <class Visit>
void scan_syntax(std::string_view pattern, Visit&& visit) {
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
        } else {
            if (c == ')')
                --depth;
            if (!visit(i, depth))
                return;
            if (c == '(')
                ++depth;
        }
    }
}

// The host group's bounds when it stands at the top level of a pattern
// without top-level alternatives or inline flags (which a split would cut
// off from the later parts).
std::optional<std::pair<std::size_t, std::size_t>> top_level_host_group(std::string_view pattern) {
    const std::string_view opener = "(?P<host>";
    std::optional<std::size_t> begin, end;
    bool splittable = true;
    scan_syntax(pattern, [&](std::size_t i, int depth) {
        const std::string_view rest = pattern.substr(i);
        if ((rest.starts_with("|") && depth == 0) ||
            (rest.starts_with("(?") && rest.size() > 2 && rest[2] != ':' && rest[2] != 'P')) {
            splittable = false;
            return false;
        }
        if (rest.starts_with(opener)) {
            if (depth != 0) {
                splittable = false;
                return false;
            }
            begin = i;
        } else if (begin && !end && rest.starts_with(")") && depth == 0) {
            end = i;
        }
        return true;
    });
    if (!splittable || !begin || !end)
        return std::nullopt;
    return std::make_pair(*begin, *end);
}

// <F-ATTEMPTS>'s digits as a number: nullopt when the group took nothing;
// a count past any login process's limit is held at max_attempts, so that a
// line cannot weigh more than a flood of lines would.
std::optional<std::uint32_t> attempts_of(std::string_view digits) {
    constexpr std::uint32_t max_attempts = 1000;
    if (digits.empty())
        return std::nullopt;
    std::uint32_t value = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9')
            return std::nullopt;
        value =
            std::min<std::uint32_t>(value * 10 + static_cast<std::uint32_t>(c - '0'), max_attempts);
    }
    return value;
}

} // namespace

bool is_start_anchored(std::string_view pattern) {
    if (!pattern.starts_with('^'))
        return false;
    bool anchored = true;
    scan_syntax(pattern, [&](std::size_t i, int depth) {
        anchored = !(pattern[i] == '|' && depth == 0);
        return anchored;
    });
    return anchored;
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
        const auto& named = regex->NamedCapturingGroups();
        const auto optional_group = [&named](const char* name) {
            const auto found = named.find(name);
            return found == named.end() ? -1 : found->second;
        };
        const int user_group = optional_group("f_user");
        const int session_group = optional_group("f_session");
        const int attempts_group = optional_group("f_attempts");
        std::optional<HostSplit> split;
        // Only for a start-anchored pattern is the prefix's own match where
        // the whole pattern's match begins; the other fields need the
        // capture engine anyway.
        const bool fields = user_group >= 0 || session_group >= 0 || attempts_group >= 0;
        auto group =
            is_start_anchored(pattern) && !fields ? top_level_host_group(pattern) : std::nullopt;
        if (group) {
            const auto [begin, end] = *group;
            const std::size_t body = begin + std::string_view("(?P<host>").size();
            split = HostSplit{compile(pattern.substr(0, begin)),
                              compile(pattern.substr(body, end - body)),
                              compile(pattern.substr(end + 1))};
        }
        failregex_.push_back(
            {std::move(regex), host, user_group, session_group, attempts_group, std::move(split)});
    }
    if (!set_->Compile())
        throw std::invalid_argument("the filter's patterns together exceed RE2's memory budget");
    for (const auto& pattern : patterns.ignoreregex)
        ignoreregex_.push_back(compile(pattern));
}

LineMatcher::~LineMatcher() = default;
LineMatcher::LineMatcher(LineMatcher&&) noexcept = default;
LineMatcher& LineMatcher::operator=(LineMatcher&&) noexcept = default;

LineMatcher::SplitResult LineMatcher::split_host(const HostSplit& split, std::string_view text) {
    // The prefix's own leftmost-first match is where the whole pattern's
    // match puts it whenever the rest can follow, and likewise for the host:
    // so each part is matched alone and the suffix confirms the choice. If the
    // prefix cannot match at all, neither can the pattern; if the rest does
    // not follow, only RE2's capture engine can tell.
    const re2::StringPiece whole(text.data(), text.size());
    re2::StringPiece prefix, host;
    if (!split.prefix->Match(whole, 0, whole.size(), RE2::ANCHOR_START, &prefix, 1))
        return {SplitResult::State::no_match, {}};
    const auto host_start = static_cast<std::size_t>(prefix.end() - whole.begin());
    if (!split.host->Match(whole, host_start, whole.size(), RE2::ANCHOR_START, &host, 1))
        return {SplitResult::State::unknown, {}};
    const auto host_end = static_cast<std::size_t>(host.end() - whole.begin());
    if (!split.suffix->Match(whole, host_end, whole.size(), RE2::ANCHOR_START, nullptr, 0))
        return {SplitResult::State::unknown, {}};
    return {SplitResult::State::found, host};
}

std::optional<LineMatch> LineMatcher::extract(std::size_t index, std::string_view text) const {
    const Compiled& pattern = failregex_[index];
    const re2::StringPiece whole(text.data(), text.size());
    if (pattern.split) {
        const SplitResult split = split_host(*pattern.split, text);
        if (split.state == SplitResult::State::no_match)
            return std::nullopt;
        if (split.state == SplitResult::State::found)
            return classify_host(index, std::string_view(split.host.data(), split.host.size()));
    }
    // The DFA answers "does it match?" far cheaper than the capture engine.
    if (!pattern.regex->Match(whole, 0, whole.size(), RE2::UNANCHORED, nullptr, 0))
        return std::nullopt;
    // Group 0 plus every group up to the host's and the other fields'.
    std::vector<re2::StringPiece> groups(
        static_cast<std::size_t>(std::max({pattern.host_group, pattern.user_group,
                                           pattern.session_group, pattern.attempts_group}) +
                                 1));
    if (!pattern.regex->Match(whole, 0, whole.size(), RE2::UNANCHORED, groups.data(),
                              static_cast<int>(groups.size())))
        return std::nullopt;
    const auto view = [&](int group) {
        if (group < 0)
            return std::string_view{};
        const re2::StringPiece piece = groups[static_cast<std::size_t>(group)];
        return std::string_view(piece.data(), piece.size());
    };
    LineMatch match = classify_host(index, view(pattern.host_group));
    if (match.kind == LineMatch::Kind::hit) {
        match.account = view(pattern.user_group);
        match.session = view(pattern.session_group);
        match.attempts = attempts_of(view(pattern.attempts_group));
    }
    return match;
}

LineMatch LineMatcher::classify_host(std::size_t index, std::string_view host) {
    LineMatch match;
    match.pattern = index;
    if (auto address = IpAddress::parse(host)) {
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

    // Most lines match nothing, and one DFA pass over all patterns says so.
    // (A DFA that runs out of memory on a pathological line reports an
    // error: then the patterns are tried one by one rather than lose it.)
    RE2::Set::ErrorInfo error{};
    if (!set_->Match(re2::StringPiece(text.data(), text.size()), nullptr, &error) &&
        error.kind == RE2::Set::kNoError)
        return {};

    // The first pattern in the filter's order that yields a host wins. Trying
    // them in order costs less than asking the Set which ones matched: a
    // pattern that does not match fails within its first bytes.
    std::optional<LineMatch> result;
    for (std::size_t index = 0; index < failregex_.size(); ++index) {
        auto candidate = extract(index, text);
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
