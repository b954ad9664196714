#include "core/text.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace exim_ban;

TEST_CASE("trim drops blanks at both ends only", "[text]") {
    CHECK(trim(" \t\r\f\va b\v\f\r\t ") == "a b");
    CHECK(trim("a") == "a");
    CHECK(trim(" \t ").empty());
    CHECK(trim("\na\n") == "\na\n"); // a newline is no blank: lines are cut first
}

TEST_CASE("digits, letters and lower case are ASCII's, whatever the byte", "[text]") {
    constexpr std::string_view digits = "0123456789";
    constexpr std::string_view small = "abcdefghijklmnopqrstuvwxyz";
    constexpr std::string_view capitals = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (int code = 0; code < 256; ++code) {
        const char c = static_cast<char>(code);
        CAPTURE(code);
        const std::size_t capital = capitals.find(c);
        CHECK(is_digit(c) == (digits.find(c) != std::string_view::npos));
        CHECK(is_lower(c) == (small.find(c) != std::string_view::npos));
        CHECK(is_upper(c) == (capital != std::string_view::npos));
        CHECK(is_letter(c) ==
              (small.find(c) != std::string_view::npos || capital != std::string_view::npos));
        CHECK(lower(c) == (capital == std::string_view::npos ? c : small[capital]));
    }
    CHECK(lower("ExIm-Spam_2 @[Z]") == "exim-spam_2 @[z]");
    CHECK(lower("\xC3\x89t\xC3\xA9") == "\xC3\x89t\xC3\xA9"); // UTF-8 stays as it is
}

TEST_CASE("parse_bool reads ConfigParser's words in any case", "[text]") {
    for (const char* word : {"1", "yes", "TRUE", "On"}) {
        CAPTURE(word);
        CHECK(parse_bool(word) == std::optional(true));
    }
    for (const char* word : {"0", "NO", "false", "oFF"}) {
        CAPTURE(word);
        CHECK(parse_bool(word) == std::optional(false));
    }
    for (const char* word : {"", "2", "y", "enabled", " true", "true "}) {
        CAPTURE(word);
        CHECK_FALSE(parse_bool(word).has_value());
    }
}

TEST_CASE("split_words splits on blanks, commas and newlines", "[text]") {
    using Words = std::vector<std::string>;
    CHECK(split_words("25,465 587") == Words{"25", "465", "587"});
    CHECK(split_words(" a,, b\t,c\nd ,") == Words{"a", "b", "c", "d"});
    CHECK(split_words("/var/log/exim4/mainlog\n/var/log/exim/main.log") ==
          Words{"/var/log/exim4/mainlog", "/var/log/exim/main.log"});
    CHECK(split_words("a\rb") == Words{"a\rb"}); // only the separators fail2ban splits on
    CHECK(split_words("").empty());
    CHECK(split_words(" ,\n\t").empty());
}

TEST_CASE("for_each_line numbers lines from 1, without their newline", "[text]") {
    std::vector<std::pair<std::string, int>> seen;
    for_each_line("a\n\nc\nlast", [&](std::string_view line, int number) {
        seen.emplace_back(std::string(line), number);
    });
    CHECK(seen ==
          std::vector<std::pair<std::string, int>>{{"a", 1}, {"", 2}, {"c", 3}, {"last", 4}});
    seen.clear();
    for_each_line("only\n", [&](std::string_view line, int number) {
        seen.emplace_back(std::string(line), number);
    });
    CHECK(seen == std::vector<std::pair<std::string, int>>{{"only", 1}});
}
