#include "control/descriptor_limit.hpp"

#include <catch2/catch.hpp>
#include <limits>
#include <sys/resource.h>

using namespace exim_ban;

namespace {

constexpr std::uint64_t infinite = std::numeric_limits<std::uint64_t>::max();

} // namespace

TEST_CASE("descriptor limit: systemd's 1024 is raised to what is wanted", "[control]") {
    CHECK(raised_soft_limit({1024, 524288}, 1088) == 1088);
    CHECK(raised_soft_limit({1024, infinite}, 1088) == 1088);
}

TEST_CASE("descriptor limit: never above the hard limit", "[control]") {
    CHECK(raised_soft_limit({512, 1000}, 1088) == 1000);
    CHECK(raised_soft_limit({1000, 1000}, 1088) == 1000);
}

TEST_CASE("descriptor limit: a higher soft limit is kept", "[control]") {
    CHECK(raised_soft_limit({65536, 524288}, 1088) == 65536);
    CHECK(raised_soft_limit({1088, 524288}, 1088) == 1088);
}

TEST_CASE("descriptor limit: the process's soft limit is raised, the hard one kept", "[control]") {
    rlimit original{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &original) == 0);
    REQUIRE(original.rlim_max >= 200);
    rlimit lowered = original;
    lowered.rlim_cur = 100;
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &lowered) == 0);

    const DescriptorLimitChange change = raise_descriptor_limit(200);
    rlimit now{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &now) == 0);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &original) == 0);

    CHECK(change.error == 0);
    CHECK(change.before.soft == 100);
    CHECK(change.after.soft == 200);
    CHECK(change.after.hard == original.rlim_max);
    CHECK(now.rlim_cur == 200);
    CHECK(now.rlim_max == original.rlim_max);
}

TEST_CASE("descriptor limit: nothing is lowered", "[control]") {
    rlimit original{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &original) == 0);
    const DescriptorLimitChange change = raise_descriptor_limit(1);
    rlimit now{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &now) == 0);
    CHECK(change.error == 0);
    CHECK(change.after.soft == change.before.soft);
    CHECK(now.rlim_cur == original.rlim_cur);
}
