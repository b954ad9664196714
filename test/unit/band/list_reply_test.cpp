#include "band/list_reply.hpp"
#include "control/control_request.hpp"
#include "core/log_time.hpp"

#include <catch2/catch.hpp>

using namespace exim_ban;
using nlohmann::json;

namespace {

BanKey key(const char* text) {
    return *IpPrefix::parse(text);
}

ListedBan listed(const char* jail, const char* address, std::int64_t start, std::int64_t expires,
                 std::uint64_t hits, const char* reason = "maxretry") {
    return {{jail, key(address), start, expires, reason, "log"}, hits};
}

std::string since(std::int64_t start) {
    return LogTime{start, 0, std::nullopt}.iso();
}

} // namespace

TEST_CASE("list reply: the jails asked for, oldest first, each key once with the ban that ends "
          "last, the same bytes as the reply object encoded",
          "[band]") {
    const std::vector<ListedBan> bans{
        listed("exim", "192.0.2.1", 1000, 5000, 3), listed("other", "192.0.2.9", 1500, 5000, 4),
        listed("exim", "192.0.2.2", 2000, 6000, 5),
        listed("exim", "192.0.2.1", 3000, 9000, 3, "knock \"extend\"\\ \u00e9\x01")};
    ListResult kernel;
    kernel.elements.push_back({"exim", key("192.0.2.2"), {}, {}, 17, 900});
    kernel.elements.push_back({"exim", key("192.0.2.3"), {}, {}, 1, 60});
    const json expected = {{"ok", true},
                           {"bans",
                            {{{"jail", "exim"},
                              {"key", "192.0.2.2"},
                              {"since", since(2000)},
                              {"remaining_s", 2000},
                              {"hits", 5},
                              {"packets", 17},
                              {"reason", "maxretry"},
                              {"origin", "log"}},
                             {{"jail", "exim"},
                              {"key", "192.0.2.1"},
                              {"since", since(3000)},
                              {"remaining_s", 5000}, // 9000 s less 4000.5 s, rounded up
                              {"hits", 3},
                              {"packets", nullptr}, // not in the kernel
                              {"reason", "knock \"extend\"\\ \u00e9\x01"},
                              {"origin", "log"}}}}};
    CHECK(list_reply(bans, kernel, {"exim"}, 4'000'500) == encode_reply(expected));
}

TEST_CASE("list reply: keys banned at the same time in the order of their text", "[band]") {
    const std::vector<ListedBan> bans{listed("exim", "192.0.2.9", 1000, 5000, 1),
                                      listed("exim", "192.0.2.10", 1000, 5000, 1)};
    const json reply = json::parse(list_reply(bans, ListResult{}, {"exim"}, 2'000'000));
    REQUIRE(reply["bans"].size() == 2);
    CHECK(reply["bans"][0]["key"] == "192.0.2.10");
    CHECK(reply["bans"][1]["key"] == "192.0.2.9");
}

TEST_CASE("list reply: a kernel that could not be read is said beside the bans", "[band]") {
    ListResult kernel;
    kernel.fault = FirewallFault{1, "cannot read table inet exim_ban: Operation not permitted"};
    const std::string line =
        list_reply(std::vector<ListedBan>{listed("exim", "192.0.2.1", 1000, 5000, 3)}, kernel,
                   {"exim"}, 2'000'000);
    const json reply = json::parse(line);
    CHECK(reply["bans"].size() == 1);
    CHECK(reply["firewall_error"] == "cannot read table inet exim_ban: Operation not permitted");
    CHECK(line == encode_reply(reply));
}

TEST_CASE("list reply: a store that cannot be read fails the command", "[band]") {
    CHECK(list_reply(StoreFailure{"database is locked", true}, ListResult{}, {"exim"}, 0) ==
          encode_reply({{"ok", false}, {"error", "list failed: database is locked"}}));
}
