#include "core/backoff.hpp"

#include <algorithm>

namespace exim_ban {

Backoff::Backoff(std::chrono::milliseconds first, std::chrono::milliseconds longest)
    : first_(first)
    , longest_(longest)
    , next_(first) {}

std::chrono::milliseconds Backoff::next() {
    const auto wait = next_;
    next_ = std::min(next_ * 2, longest_);
    return wait;
}

void Backoff::reset() {
    next_ = first_;
}

} // namespace exim_ban
