#include "journal/reject_copy_filter.hpp"

#include "core/syslog_line.hpp"

#include <algorithm>
#include <optional>
#include <string_view>

namespace exim_ban {
namespace {

// syslog(3)'s priorities that Exim's write_syslog gives the two copies.
constexpr std::string_view info_priority = "6";
constexpr std::string_view notice_priority = "5";

} // namespace

RejectCopyFilter::RejectCopyFilter(Limits limits)
    : limits_(limits) {
    processes_.reserve(limits_.max_pids);
}

RejectCopyFilter::Process& RejectCopyFilter::process_of(const std::string& pid) {
    for (Process& process : processes_)
        if (process.pid == pid)
            return process;
    if (processes_.size() < limits_.max_pids) {
        processes_.push_back({});
        processes_.back().pid = pid;
        return processes_.back();
    }
    Process& oldest =
        *std::min_element(processes_.begin(), processes_.end(),
                          [](const Process& a, const Process& b) { return a.heard < b.heard; });
    oldest = Process{};
    oldest.pid = pid;
    return oldest;
}

bool RejectCopyFilter::is_reject_copy(const JournalEntry& entry) {
    const std::string& pid = entry.syslog_pid.empty() ? entry.pid : entry.syslog_pid;
    if (pid.empty() || limits_.max_pids == 0)
        return false;
    const std::string_view message = entry.message;
    std::size_t pos = 0;
    const std::optional<SyslogPart> part = read_part_mark(message, pos);
    const std::string_view text = message.substr(pos);
    const bool info = entry.priority == info_priority;
    const bool notice = entry.priority == notice_priority;

    Process& process = process_of(pid);
    process.heard = ++heard_;
    if (process.skip_next != 0) {
        // One process sends the parts of an entry in order before its next
        // entry: anything but the awaited part ends the copy.
        if (notice && part && part->index == process.skip_next &&
            part->total == process.skip_total) {
            if (++process.skip_next > process.skip_total)
                process.skip_next = 0;
            return true;
        }
        process.skip_next = 0;
    }
    if (info) {
        // The main copy's further parts say nothing its first part did not.
        if (part && part->index > 1)
            return false;
        process.main_copy = text.size() <= limits_.max_text;
        process.main_whole = !part || part->ends_line;
        process.main_us = entry.realtime_us;
        process.main_text.assign(process.main_copy ? text : std::string_view());
        return false;
    }
    const bool whole = !part || part->ends_line;
    // Either way round: the wall clock may have been stepped between them.
    const std::uint64_t gap = entry.realtime_us > process.main_us
                                  ? entry.realtime_us - process.main_us
                                  : process.main_us - entry.realtime_us;
    const bool copy = notice && process.main_copy && (!part || part->index == 1) &&
                      whole == process.main_whole && gap <= limits_.max_gap_us &&
                      text == process.main_text;
    // A main copy is answered by the entry right after it, or by none.
    process.main_copy = false;
    if (copy && part) {
        process.skip_next = 2;
        process.skip_total = part->total;
    }
    return copy;
}

} // namespace exim_ban
