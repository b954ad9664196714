#include "loop/lifetime.hpp"

#include <catch2/catch.hpp>
#include <functional>
#include <optional>

using exim_ban::Lifetime;

TEST_CASE("a guarded handler runs while its lifetime lasts and does nothing after", "[loop]") {
    int sum = 0;
    std::function<void(int)> handler;
    {
        Lifetime lifetime;
        handler = lifetime.guarded([&](int added) { sum += added; });
        handler(2);
        handler(3);
        CHECK(sum == 5);
    }
    handler(7);
    CHECK(sum == 5);
}
