#include "core/line_splitter.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
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

TEST_CASE("consumed counts delivered lines and stops before an incomplete one", "[splitter]") {
    LineSplitter splitter;
    std::vector<std::uint64_t> seen_inside;
    const auto note = [&](std::string_view, bool) { seen_inside.push_back(splitter.consumed()); };
    splitter.feed("one\ntw", note);
    CHECK(splitter.consumed() == 4);
    CHECK(splitter.consumed() + splitter.pending_bytes() == 6);
    splitter.feed("o\n\nthr", note);
    CHECK(seen_inside == std::vector<std::uint64_t>{4, 8, 9});
    CHECK(splitter.consumed() == 9);
    splitter.finish(note);
    CHECK(splitter.consumed() == 12);
    CHECK(seen_inside.back() == 12);
}

TEST_CASE("consumed moves through a cut line as its rest is skipped", "[splitter]") {
    LineSplitter splitter;
    std::uint64_t inside_cut = 0;
    bool skipping_inside_cut = false;
    splitter.feed(std::string(max_line_bytes + 10, 'a'), [&](std::string_view, bool cut) {
        REQUIRE(cut);
        inside_cut = splitter.consumed();
        skipping_inside_cut = splitter.skipping_cut_line();
    });
    CHECK(inside_cut == max_line_bytes);
    CHECK(skipping_inside_cut);
    CHECK(splitter.consumed() == max_line_bytes + 10);
    CHECK(splitter.skipping_cut_line());
    splitter.feed(std::string(5, 'a') + "\nb", [](std::string_view, bool) {});
    CHECK(splitter.consumed() == max_line_bytes + 16);
    CHECK_FALSE(splitter.skipping_cut_line());
    CHECK(splitter.pending_bytes() == 1);
}

TEST_CASE("restart goes on from a stream offset inside a cut line or not", "[splitter]") {
    LineSplitter splitter;
    Collected got;
    splitter.feed("half a li", got.sink());
    splitter.restart(100);
    CHECK(splitter.pending_bytes() == 0);
    splitter.feed("whole\n", got.sink());
    CHECK(got.lines == std::vector<std::string>{"whole"});
    CHECK(splitter.consumed() == 106);

    splitter.restart(max_line_bytes, true);
    splitter.feed("rest of a cut line\nnext\n", got.sink());
    CHECK(got.lines == std::vector<std::string>{"whole", "next"});
    CHECK(splitter.consumed() == max_line_bytes + 24);
}
