#include "export/trust_file.hpp"
#include "export/trust_list.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>

using namespace exim_ban;
using exim_ban::testing::TempDir;

namespace {
BanKey key(const char* address) {
    return ban_key(*IpAddress::parse(address), 64);
}
std::string read(const std::filesystem::path& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), {}};
}
} // namespace

TEST_CASE("trust list: an Exim host list, IPv6 networks quoted for iplsearch", "[export][trust]") {
    CHECK(trust_list_text({}).empty());
    CHECK(trust_list_text({key("2001:db8:1:2::10"), key("192.0.2.7"), key("10.0.0.1"),
                           key("192.0.2.7")}) == "10.0.0.1\n192.0.2.7\n\"2001:db8:1:2::/64\"\n");
}

TEST_CASE("trust file: written the first time and when its text changes", "[export][trust]") {
    TempDir dir;
    TrustFile file(dir / "trusted");
    REQUIRE_FALSE(file.update({}));
    CHECK(std::filesystem::exists(dir / "trusted"));
    CHECK(read(dir / "trusted").empty());
    REQUIRE_FALSE(file.update({key("192.0.2.7")}));
    REQUIRE_FALSE(file.update({key("192.0.2.7")}));
    CHECK(file.writes() == 2);
    CHECK(read(dir / "trusted") == "192.0.2.7\n");
    TrustFile nowhere(dir / "missing" / "trusted");
    CHECK(nowhere.update({}).has_value());
}
