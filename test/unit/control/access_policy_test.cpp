#include "control/access_policy.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;

namespace {

constexpr gid_t adm = 4;
const PeerCredentials root{100, 0, 0};
const PeerCredentials in_group{101, 1000, adm};
const PeerCredentials outsider{102, 1000, 1000};

} // namespace

TEST_CASE("access policy: root may do everything", "[control]") {
    CHECK(may_access(Access::change, root, adm, {}));
    CHECK(may_access(Access::read, root, adm, {}));
}

TEST_CASE("access policy: changing state needs root, whatever the groups", "[control]") {
    CHECK_FALSE(may_access(Access::change, in_group, adm, {adm}));
    CHECK_FALSE(may_access(Access::change, outsider, adm, {1000, adm}));
    CHECK_FALSE(may_access(Access::change, PeerCredentials{1, 1000, 0}, 0, {0}));
}

TEST_CASE("access policy: reading needs the control group, primary or supplementary", "[control]") {
    CHECK(may_access(Access::read, in_group, adm, {}));
    CHECK(may_access(Access::read, outsider, adm, {1000, 27, adm}));
    CHECK_FALSE(may_access(Access::read, outsider, adm, {1000, 27}));
    CHECK_FALSE(may_access(Access::read, outsider, adm, {}));
}

TEST_CASE("access policy: refusals say what is needed and who asked", "[control]") {
    CHECK(access_refusal("ban", Access::change, outsider, "adm") ==
          "permission denied: \"ban\" changes state and needs root; you are uid 1000");
    CHECK(access_refusal("list", Access::read, outsider, "adm") ==
          "permission denied: \"list\" needs root or group adm; you are uid 1000");
}
