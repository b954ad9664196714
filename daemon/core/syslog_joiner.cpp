#include "core/syslog_joiner.hpp"

#include <algorithm>
#include <cstdlib>

namespace exim_ban {
namespace {

std::int64_t ms_of(const LogTime& time) {
    return time.wall_seconds * 1000 + time.milliseconds;
}

} // namespace

SyslogJoiner::SyslogJoiner(Limits limits)
    : limits_(limits) {
    waiting_.resize(std::max<std::size_t>(limits_.max_waiting, 1));
}

SyslogJoiner::Waiting* SyslogJoiner::find(const SyslogSender& sender) {
    if (active_ == 0 || !sender.pid)
        return nullptr;
    for (Waiting& waiting : waiting_) {
        if (waiting.active && waiting.pid == *sender.pid && waiting.ident == sender.ident &&
            waiting.host == sender.host)
            return &waiting;
    }
    return nullptr;
}

void SyslogJoiner::drop(Waiting& waiting) {
    // Once the first line is out, the parts left are never matched: losing
    // them loses nothing.
    if (!waiting.first_line_done)
        dropped_ += waiting.parts;
    release(waiting);
}

void SyslogJoiner::release(Waiting& waiting) {
    waiting.active = false;
    --active_;
}

void SyslogJoiner::expire(std::int64_t now_ms) {
    if (active_ == 0)
        return;
    // Either way: a log's syslog dates can step back a little where
    // processes' lines cross.
    for (Waiting& waiting : waiting_) {
        if (waiting.active && std::llabs(now_ms - waiting.last_ms) > limits_.max_gap_ms)
            drop(waiting);
    }
}

SyslogJoiner::Waiting& SyslogJoiner::start(const SyslogSender& sender, const SyslogPart& part,
                                           const LogTime& time) {
    auto slot = std::find_if(waiting_.begin(), waiting_.end(),
                             [](const Waiting& waiting) { return !waiting.active; });
    if (slot == waiting_.end()) {
        // No room: the entry that waited longest goes.
        slot = std::min_element(
            waiting_.begin(), waiting_.end(),
            [](const Waiting& a, const Waiting& b) { return a.last_ms < b.last_ms; });
        drop(*slot);
    }
    Waiting& waiting = *slot;
    waiting.active = true;
    ++active_;
    waiting.host.assign(sender.host);
    waiting.ident.assign(sender.ident);
    waiting.pid = *sender.pid;
    waiting.total = part.total;
    waiting.next = 2;
    waiting.first_line_done = part.ends_line;
    waiting.text.clear();
    waiting.time = time;
    waiting.last_ms = ms_of(time);
    waiting.parts = 1;
    return waiting;
}

std::optional<SyslogJoiner::Joined> SyslogJoiner::add(const SyslogSender& sender,
                                                      const SyslogPart& part, std::string_view text,
                                                      const LogTime& time) {
    if (!sender.pid) {
        // Parts of different processes could not be told apart.
        ++dropped_;
        return std::nullopt;
    }
    const std::int64_t now_ms = ms_of(time);
    expire(now_ms);
    Waiting* waiting = find(sender);

    if (part.index == 1) {
        // The process has moved on to its next entry: the one it left
        // waiting lost its last parts.
        if (waiting != nullptr)
            drop(*waiting);
        Waiting& started = start(sender, part, time);
        if (part.ends_line)
            return Joined{time, text};
        if (text.size() > limits_.max_first_line) {
            drop(started);
            return std::nullopt;
        }
        started.text.assign(text);
        return std::nullopt;
    }

    if (waiting == nullptr || waiting->next != part.index || waiting->total != part.total) {
        // A part after a lost one: it never joins another entry.
        if (waiting != nullptr)
            drop(*waiting);
        ++dropped_;
        return std::nullopt;
    }
    ++waiting->parts;
    ++waiting->next;
    waiting->last_ms = now_ms;
    const bool last = part.index == part.total;
    if (waiting->first_line_done) {
        if (last)
            release(*waiting);
        return std::nullopt;
    }
    if (waiting->text.size() + text.size() > limits_.max_first_line) {
        drop(*waiting);
        return std::nullopt;
    }
    waiting->text.append(text);
    if (!part.ends_line && !last)
        return std::nullopt;
    waiting->first_line_done = true;
    // The text stays where it is until the slot is used again, which is
    // after the caller's next call at the earliest.
    const Joined joined{waiting->time, waiting->text};
    if (last)
        release(*waiting);
    return joined;
}

void SyslogJoiner::other_line(const SyslogSender& sender, const LogTime& time) {
    expire(ms_of(time));
    if (Waiting* waiting = find(sender))
        drop(*waiting);
}

void SyslogJoiner::finish() {
    for (Waiting& waiting : waiting_) {
        if (waiting.active)
            drop(waiting);
    }
}

} // namespace exim_ban
