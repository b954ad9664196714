#include "core/line_splitter.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using exim_ban::LineSplitter;
using exim_ban::max_line_bytes;

namespace {
struct Collected {
    std::vector<std::string> lines;
    std::vector<bool> cut;
    auto sink() {
        return [this](std::string_view line, bool was_cut) {
            lines.emplace_back(line);
            cut.push_back(was_cut);
        };
    }
};
} // namespace

TEST_CASE("lines split across chunks arrive whole", "[splitter]") {
    LineSplitter splitter;
    Collected got;
    splitter.feed("one\ntw", got.sink());
    CHECK(splitter.pending_bytes() == 2);
    splitter.feed("o\n\nthr", got.sink());
    splitter.feed("ee", got.sink());
    CHECK(got.lines == std::vector<std::string>{"one", "two", ""});
    splitter.finish(got.sink());
    CHECK(got.lines.back() == "three");
}

TEST_CASE("an overlong line is cut, counted and its rest skipped", "[splitter]") {
    LineSplitter splitter;
    Collected got;
    const std::string exact(max_line_bytes, 'a');
    const std::string huge(10 * 1024 * 1024, 'b');
    splitter.feed(exact + "\n", got.sink());
    for (std::size_t at = 0; at < huge.size(); at += 4096)
        splitter.feed(std::string_view(huge).substr(at, 4096), got.sink());
    CHECK(splitter.pending_bytes() == 0);
    splitter.feed("\nnext\n", got.sink());
    REQUIRE(got.lines.size() == 3);
    CHECK(got.lines[0].size() == max_line_bytes);
    CHECK_FALSE(got.cut[0]);
    CHECK(got.lines[1] == std::string(max_line_bytes, 'b'));
    CHECK(got.cut[1]);
    CHECK(got.lines[2] == "next");
    CHECK_FALSE(got.cut[2]);
}

TEST_CASE("NUL and non-UTF-8 bytes pass through", "[splitter]") {
    LineSplitter splitter;
    Collected got;
    splitter.feed(std::string_view("a\0b\xff\n", 5), got.sink());
    REQUIRE(got.lines.size() == 1);
    CHECK(got.lines[0] == std::string("a\0b\xff", 4));
}
