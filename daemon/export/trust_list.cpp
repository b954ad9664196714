#include "export/trust_list.hpp"

#include <algorithm>

namespace exim_ban {

std::string trust_list_text(std::vector<BanKey> keys) {
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    std::string text;
    for (const BanKey& key : keys) {
        if (key.network().is_v4())
            text += key.to_string();
        else
            text += '"' + key.to_string() + '"';
        text += '\n';
    }
    return text;
}

} // namespace exim_ban
