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
    open(key, 1);
    return 1;
}

std::uint32_t SessionAttempts::counted(std::string_view session) const {
    const auto found = counted_.find(std::string(session));
    return found == counted_.end() ? 0 : found->second.counted;
}

void SessionAttempts::restore(std::string_view session, std::uint32_t counted) {
    const std::string key(session);
    if (key.empty() || counted == 0)
        return;
    if (const auto found = counted_.find(key); found != counted_.end()) {
        found->second.counted = counted;
        return;
    }
    open(key, counted);
}

void SessionAttempts::open(const std::string& session, std::uint32_t counted) {
    if (counted_.size() >= capacity_) {
        counted_.erase(oldest_first_.front());
        oldest_first_.pop_front();
        ++forgotten_;
    }
    oldest_first_.push_back(session);
    counted_.emplace(session, Session{counted, std::prev(oldest_first_.end())});
}

} // namespace exim_ban
