#include "core/ini_document.hpp"
#include "core/load_error.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

TEST_CASE("fail2ban's INI dialect", "[ini]") {
    const auto doc = parse_ini("# comment\n"
                               "[Definition]\n"
                               "failregex = ^first <HOST>$\n"
                               "            ^second <HOST>$\n"
                               "            # a comment inside the value\n"
                               "\n"
                               "            ^third <HOST>$\n"
                               "ignoreregex =\n"
                               "mode: normal ; inline comment\n"
                               "regex = a;b\n"
                               "[Init]\n"
                               "honeypot = trap@example.com\n",
                               "f.conf");
    REQUIRE(doc.sections.size() == 2);
    const auto& definition = doc.sections[0];
    CHECK(definition.name == "Definition");
    REQUIRE(definition.entries.size() == 4);
    const auto& failregex = definition.entries[0].value;
    REQUIRE(failregex.size() == 4);
    CHECK(failregex[0].text == "^first <HOST>$");
    CHECK(failregex[0].line == 3);
    CHECK(failregex[1].text == "^second <HOST>$");
    CHECK(failregex[2].text.empty());
    CHECK(failregex[3].text == "^third <HOST>$");
    CHECK(failregex[3].line == 7);
    CHECK(definition.entries[1].value.size() == 1);
    CHECK(definition.entries[1].value[0].text.empty());
    CHECK(definition.entries[2].key == "mode");
    CHECK(definition.entries[2].value[0].text == "normal");
    CHECK(definition.entries[3].value[0].text == "a;b");
    CHECK(doc.sections[1].entries[0].value[0].file == "f.conf");
}

TEST_CASE("INI errors name the file and line", "[ini]") {
    CHECK_THROWS_WITH(parse_ini("[a]\nkey = v\nno delimiter here\n", "x.conf"),
                      Catch::Contains("x.conf:3:") && Catch::Contains("expected"));
    CHECK_THROWS_WITH(parse_ini("key = v\n", "y.conf"),
                      Catch::Contains("y.conf:1:") && Catch::Contains("before any"));
    CHECK_THROWS_AS(parse_ini("[a]\n= v\n", "z.conf"), LoadError);
}
