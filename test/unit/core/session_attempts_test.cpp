#include "core/session_attempts.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace exim_ban;

TEST_CASE("auth lines count one attempt each, the summary what they did not",
          "[session_attempts]") {
    SessionAttempts sessions;
    // auth_verbose: three password mismatches, then "auth failed, 3 attempts".
    CHECK(sessions.count("HVCzzBNi3a7LAHEN", std::nullopt) == 1);
    CHECK(sessions.count("HVCzzBNi3a7LAHEN", std::nullopt) == 1);
    CHECK(sessions.count("HVCzzBNi3a7LAHEN", std::nullopt) == 1);
    CHECK(sessions.sessions() == 1);
    CHECK(sessions.count("HVCzzBNi3a7LAHEN", 3u) == 0);
    CHECK(sessions.sessions() == 0);
    // Two attempts the auth process did not tell (auth_username_chars):
    // the summary counts them.
    CHECK(sessions.count("wpCpzhNiw+HLAHEV", std::nullopt) == 1);
    CHECK(sessions.count("wpCpzhNiw+HLAHEV", 3u) == 2);
}

TEST_CASE("without auth_verbose the summary counts all its attempts", "[session_attempts]") {
    SessionAttempts sessions;
    CHECK(sessions.count("K8kxzhNi/YXLAHER", 2u) == 2);
    // Its session is over: the same id again is no memory of the first.
    CHECK(sessions.count("K8kxzhNi/YXLAHER", 2u) == 2);
    CHECK(sessions.sessions() == 0);
}

TEST_CASE("a line without a session counts its attempts, or one", "[session_attempts]") {
    SessionAttempts sessions;
    CHECK(sessions.count("", std::nullopt) == 1);
    CHECK(sessions.count("", 4u) == 4);
    CHECK(sessions.count("", 0u) == 0);
    CHECK(sessions.sessions() == 0);
}

TEST_CASE("the memory is bounded: the oldest session is forgotten", "[session_attempts]") {
    SessionAttempts sessions(3);
    for (int i = 0; i < 1000; ++i)
        CHECK(sessions.count("flood" + std::to_string(i), std::nullopt) == 1);
    CHECK(sessions.sessions() == 3);
    CHECK(sessions.forgotten() == 997);
    // A forgotten session's summary counts all its attempts (never fewer).
    CHECK(sessions.count("flood0", 2u) == 2);
    // The newest are remembered.
    CHECK(sessions.count("flood999", 2u) == 1);
    CHECK(sessions.count("flood998", std::nullopt) == 1);
    CHECK(sessions.count("flood998", 1u) == 0);
}

TEST_CASE("a session restored from the store goes on where it was", "[session_attempts]") {
    SessionAttempts sessions;
    CHECK(sessions.count("HVCzzBNi3a7LAHEN", std::nullopt) == 1);
    CHECK(sessions.counted("HVCzzBNi3a7LAHEN") == 1);
    CHECK(sessions.counted("unknown") == 0);

    SessionAttempts restarted;
    restarted.restore("HVCzzBNi3a7LAHEN", sessions.counted("HVCzzBNi3a7LAHEN"));
    restarted.restore("", 3);      // no session: nothing to remember
    restarted.restore("ended", 0); // over: nothing to remember
    CHECK(restarted.sessions() == 1);
    CHECK(restarted.count("HVCzzBNi3a7LAHEN", std::nullopt) == 1);
    CHECK(restarted.counted("HVCzzBNi3a7LAHEN") == 2);
    // The summary of 3 counts the one attempt not told before.
    CHECK(restarted.count("HVCzzBNi3a7LAHEN", 3u) == 1);
    CHECK(restarted.counted("HVCzzBNi3a7LAHEN") == 0);
}
