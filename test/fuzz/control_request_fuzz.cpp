// Any bytes as one control-socket request line: a request or an error
// text, never both, never a crash, however deep or malformed.
#include "control/control_request.hpp"

#include <cstdint>
#include <cstdlib>

using namespace exim_ban;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto parsed =
        parse_control_request(std::string_view(reinterpret_cast<const char*>(data), size));
    if (parsed.request.has_value() == !parsed.error.empty())
        std::abort();
    if (!parsed.request)
        (void)error_reply(parsed.error);
    return 0;
}
