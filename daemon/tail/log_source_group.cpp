#include "tail/log_source_group.hpp"

namespace exim_ban {

std::vector<LogPosition> LogSourceGroup::positions() const {
    if (sources_.size() == 1)
        return sources_.front()->positions();
    std::vector<LogPosition> all;
    for (const LogSource* source : sources_) {
        auto some = source->positions();
        all.insert(all.end(), std::make_move_iterator(some.begin()),
                   std::make_move_iterator(some.end()));
    }
    return all;
}

void LogSourceGroup::pause() {
    for (LogSource* source : sources_)
        source->pause();
}

void LogSourceGroup::resume() {
    for (LogSource* source : sources_)
        source->resume();
}

} // namespace exim_ban
