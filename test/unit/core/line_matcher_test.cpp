#include "core/line_matcher.hpp"
#include "filter/regex_translation.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

namespace {
std::string fail(const char* pattern) {
    return translate_regex(pattern, HostTag::required);
}
} // namespace

TEST_CASE("the first pattern in order that yields a host wins", "[matcher]") {
    const LineMatcher matcher({std::nullopt, {fail("^a <HOST>"), fail("^a (?:x )?<HOST>$")}, {}});
    auto match = matcher.match("a 192.0.2.1");
    CHECK(match.kind == LineMatch::Kind::hit);
    CHECK(match.pattern == 0);
    match = matcher.match("a x 192.0.2.2");
    CHECK(match.kind == LineMatch::Kind::hit);
    CHECK(match.pattern == 1);
    CHECK(match.host.to_string() == "192.0.2.2");
    CHECK(matcher.match("b 192.0.2.1").kind == LineMatch::Kind::none);
}

TEST_CASE("a match whose host is no address is no hit", "[matcher]") {
    const LineMatcher matcher({std::nullopt, {fail("^bad \\[<HOST>\\]$")}, {}});
    CHECK(matcher.match("bad [999.1.1.1]").kind == LineMatch::Kind::invalid_host);
    CHECK(matcher.match("bad [01.1.1.1]").kind == LineMatch::Kind::invalid_host);
    CHECK(matcher.match("bad [mail.example.com]").kind == LineMatch::Kind::none);
    CHECK(matcher.match("bad [::ffff:192.0.2.5]").host.to_string() == "192.0.2.5");
}

TEST_CASE("<F-USER> gives the account a hit is about", "[matcher]") {
    const LineMatcher matcher(
        {std::nullopt,
         {fail("^auth failed: user=<<F-USER>.*</F-USER>>, rip=<HOST>$"), fail("^other <HOST>$")},
         {}});
    // A name that carries a planted address: the last rip= is the host.
    const LineMatch planted = matcher.match("auth failed: user=<x>, rip=6.6.6.6>, rip=192.0.2.9");
    CHECK(planted.kind == LineMatch::Kind::hit);
    CHECK(planted.host.to_string() == "192.0.2.9");
    CHECK(planted.account == "x>, rip=6.6.6.6");
    const LineMatch none = matcher.match("other 192.0.2.1");
    CHECK(none.kind == LineMatch::Kind::hit);
    CHECK(none.account.empty());
}

TEST_CASE("<F-SESSION> and <F-ATTEMPTS> say which session and how many attempts", "[matcher]") {
    const LineMatcher matcher(
        {std::nullopt,
         {fail("^summary \\(auth failed, <F-ATTEMPTS>\\d+</F-ATTEMPTS> attempts\\): rip=<HOST>"
               "(?:, session=<<F-SESSION>[\\w+/]+</F-SESSION>>)?$"),
          fail("^auth <F-USER>.*</F-USER>,<HOST>,<<F-SESSION>\\w+</F-SESSION>>$")},
         {}});
    const LineMatch summary =
        matcher.match("summary (auth failed, 3 attempts): rip=192.0.2.9, session=<ab+/c>");
    REQUIRE(summary.kind == LineMatch::Kind::hit);
    CHECK(summary.attempts == 3u);
    CHECK(summary.session == "ab+/c");
    const LineMatch no_session =
        matcher.match("summary (auth failed, 99999999999 attempts): rip=192.0.2.9");
    REQUIRE(no_session.kind == LineMatch::Kind::hit);
    CHECK(no_session.attempts == 1000u);
    CHECK(no_session.session.empty());
    const LineMatch auth = matcher.match("auth bob,6.6.6.6,<x>,192.0.2.8,<S1>");
    REQUIRE(auth.kind == LineMatch::Kind::hit);
    CHECK(auth.host.to_string() == "192.0.2.8");
    CHECK(auth.account == "bob,6.6.6.6,<x>");
    CHECK(auth.session == "S1");
    CHECK_FALSE(auth.attempts);
}

TEST_CASE("ignoreregex drops a match", "[matcher]") {
    const LineMatcher matcher(
        {std::nullopt, {fail("^bad <HOST>")}, {translate_regex("user=ok", HostTag::optional)}});
    CHECK(matcher.match("bad 192.0.2.1 user=evil").kind == LineMatch::Kind::hit);
    CHECK(matcher.match("bad 192.0.2.1 user=ok").kind == LineMatch::Kind::ignored);
}

TEST_CASE("prefregex selects the content the failregexes see", "[matcher]") {
    const LineMatcher matcher(
        {translate_regex("^\\[\\d+\\] <F-CONTENT>.+</F-CONTENT>$", HostTag::optional),
         {fail("^bad <HOST>$")},
         {}});
    CHECK(matcher.match("[12] bad 192.0.2.1").kind == LineMatch::Kind::hit);
    CHECK(matcher.match("bad 192.0.2.1").kind == LineMatch::Kind::none);
}

TEST_CASE("unanchored patterns and patterns that cannot be split still extract right",
          "[matcher]") {
    // Unanchored (pattern files), a top-level alternative, a host inside a
    // group, and a greedy prefix whose first choice the suffix rejects.
    const LineMatcher matcher({std::nullopt,
                               {fail("\\[<HOST>\\] AUTH command used"), fail("^q$|^y <HOST>$"),
                                fail("^z (?:n=<HOST>)$"), fail("^g .*\\[<HOST>\\] end$")},
                               {}});
    CHECK(matcher.match("H=(h) [192.0.2.1] AUTH command used").host.to_string() == "192.0.2.1");
    CHECK(matcher.match("y 192.0.2.2").host.to_string() == "192.0.2.2");
    CHECK(matcher.match("z n=192.0.2.3").host.to_string() == "192.0.2.3");
    CHECK(matcher.match("g [192.0.2.4] end [192.0.2.5] more").kind == LineMatch::Kind::none);
    CHECK(matcher.match("g [192.0.2.4] x [192.0.2.5] end").host.to_string() == "192.0.2.5");
}

TEST_CASE("start anchoring is recognised", "[matcher]") {
    for (const char* anchored : {"^abc", "^a(?:b|c)", "^a[|]"}) {
        CAPTURE(anchored);
        CHECK(is_start_anchored(anchored));
    }
    for (const char* loose : {"^a|b", "abc"}) {
        CAPTURE(loose);
        CHECK_FALSE(is_start_anchored(loose));
    }
}

TEST_CASE("regex translation", "[translate]") {
    CHECK(fail("^a <F-USER>\\S+</F-USER> <HOST>\\Z").find("(?P<f_user>\\S+)") != std::string::npos);
    CHECK(fail("^a <HOST>\\Z").ends_with("\\z"));
    // Each refused pattern, and what its error says.
    const std::pair<const char*, const char*> refused[] = {
        {"^(?<=x)<HOST>", "(?<=...)"},   {"^(?<!x)<HOST>", "(?<!...)"},
        {"^(?=x)<HOST>", "(?=...)"},     {"^(?P<a>x)(?P=a)<HOST>", "backreference"},
        {"^<F-A>x<HOST>", "not closed"}, {"^<SKIPLINES><HOST>", "multi-line"},
        {"^<DNS>", "not supported"}};
    for (const auto& [pattern, says] : refused) {
        CAPTURE(pattern);
        CHECK_THROWS_WITH(fail(pattern), Catch::Contains(says));
    }
    // Inside a character class "(?=" is literal text, not a lookahead.
    CHECK_NOTHROW(fail("^[(?=]<HOST>"));
    CHECK_NOTHROW(fail("^\\(?=<HOST>"));
}
