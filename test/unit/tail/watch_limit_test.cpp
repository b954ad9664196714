#include "tail/tailer.hpp"
#include "tail/watch_limit.hpp"

#include <catch2/catch.hpp>
#include <cerrno>

using namespace exim_ban;

TEST_CASE("an inotify limit names the sysctl to raise; other errors none", "[tail]") {
    CHECK(inotify_limit_sysctl(ENOSPC) == "fs.inotify.max_user_watches");
    CHECK(inotify_limit_sysctl(EMFILE) == "fs.inotify.max_user_instances");
    CHECK_FALSE(inotify_limit_sysctl(EACCES));
    CHECK_FALSE(inotify_limit_sysctl(ENOENT));
    CHECK_FALSE(inotify_limit_sysctl(0));
}

TEST_CASE("a log past an inotify limit is polled sooner than any retry", "[tail]") {
    CHECK(watch_limit_poll_interval < tail_first_retry);
    CHECK(watch_limit_poll_interval <= std::chrono::milliseconds(250));
}
