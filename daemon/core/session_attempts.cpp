#include "core/session_attempts.hpp"

#include <algorithm>

namespace exim_ban {

SessionAttempts::SessionAttempts(std::size_t capacity)
    : capacity_(std::max<std::size_t>(capacity, 1)) {}

std::uint32_t SessionAttempts::count(std::string_view session,
                                     std::optional<std::uint32_t> attempts) {
    if (session.empty())
        return attempts.value_or(1);
    const std::string key(session);
    const auto found = counted_.find(key);
    if (attempts) {
        if (found == counted_.end())
            return *attempts;
        const std::uint32_t counted = found->second.counted;
        oldest_first_.erase(found->second.age);
        counted_.erase(found);
        return *attempts > counted ? *attempts - counted : 0;
    }
    if (found != counted_.end()) {
        ++found->second.counted;
        return 1;
    }
    if (counted_.size() >= capacity_) {
        counted_.erase(oldest_first_.front());
        oldest_first_.pop_front();
        ++forgotten_;
    }
    oldest_first_.push_back(key);
    counted_.emplace(key, Session{1, std::prev(oldest_first_.end())});
    return 1;
}

} // namespace exim_ban
