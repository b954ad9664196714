// Any bytes as exim-ban.conf, with the shipped filters beside it: loading
// either works or throws LoadError; nothing else may escape.
#include "config/config_loader.hpp"
#include "core/load_error.hpp"
#include "shipped_filters.hpp"

#include <cstdint>

using namespace exim_ban;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const testing::InMemoryFiles shipped = fuzz::shipped_filters();
    testing::InMemoryFiles files = shipped;
    files.add("/etc/exim-ban/exim-ban.conf",
              std::string(reinterpret_cast<const char*>(data), size));
    try {
        load_config("/etc/exim-ban/exim-ban.conf", files, {*IpPrefix::parse("192.0.2.53")});
    } catch (const LoadError&) {
    }
    return 0;
}
