#include "export/trust_file.hpp"

#include "export/trust_list.hpp"
#include "export/zone_file.hpp"

namespace exim_ban {

std::optional<std::string> TrustFile::update(std::vector<BanKey> keys) {
    std::string text = trust_list_text(std::move(keys));
    if (written_ && *written_ == text)
        return std::nullopt;
    if (auto failure = replace_file(path_, text))
        return failure;
    written_ = std::move(text);
    ++writes_;
    return std::nullopt;
}

} // namespace exim_ban
