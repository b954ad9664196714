#include "banctl/element_report.hpp"

#include <catch2/catch.hpp>
#include <sstream>

using namespace exim_ban;
using std::chrono::milliseconds;

namespace {

ListResult listing() {
    ListResult result;
    result.table_present = true;
    result.elements = {
        {"exim", *IpPrefix::parse("203.0.113.9"), milliseconds{3600000}, milliseconds{3599400}, 12,
         720},
        {"exim", *IpPrefix::parse("2001:db8:1:2::/64"), milliseconds{5400000}, milliseconds{300}, 0,
         0},
    };
    return result;
}

} // namespace

TEST_CASE("the element table lines up and rounds time up", "[firewall][report]") {
    std::ostringstream out;
    print_element_table(out, listing());
    CHECK(out.str() == "JAIL  ELEMENT            EXPIRES  TIMEOUT  PACKETS  BYTES\n"
                       "exim  203.0.113.9        1h       1h            12    720\n"
                       "exim  2001:db8:1:2::/64  1s       1h30m          0      0\n"
                       "2 elements in table inet exim_ban\n");
}

TEST_CASE("no table is said plainly", "[firewall][report]") {
    std::ostringstream out;
    print_element_table(out, ListResult{});
    CHECK(out.str().starts_with("no table inet exim_ban: "));
    std::ostringstream empty;
    ListResult present;
    present.table_present = true;
    print_element_table(empty, present);
    CHECK(empty.str() == "JAIL  ELEMENT  EXPIRES  TIMEOUT  PACKETS  BYTES\n"
                         "0 elements in table inet exim_ban\n");
}

TEST_CASE("the JSON form has every field", "[firewall][report]") {
    const nlohmann::json json = element_json(listing());
    CHECK(json["table"] == "table inet exim_ban");
    CHECK(json["present"] == true);
    REQUIRE(json["elements"].size() == 2);
    CHECK(json["elements"][0] == nlohmann::json{{"jail", "exim"},
                                                {"element", "203.0.113.9"},
                                                {"family", "ipv4"},
                                                {"expires", 3600},
                                                {"timeout", 3600},
                                                {"packets", 12},
                                                {"bytes", 720}});
    CHECK(json["elements"][1]["family"] == "ipv6");
    CHECK(json["elements"][1]["expires"] == 1);
    CHECK(element_json(ListResult{})["present"] == false);
}
