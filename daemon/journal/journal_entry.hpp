// The fields of a journal entry that make its syslog line, and tell Exim's
// two copies of a line apart (reject_copy_filter), copied out of sd-journal
// (whose pointers last only until the next read).
#pragma once

#include <cstdint>
#include <string>

namespace exim_ban {

struct JournalEntry {
    std::uint64_t realtime_us = 0; // __REALTIME_TIMESTAMP: microseconds since the epoch, UTC
    std::string hostname;          // _HOSTNAME
    std::string identifier;        // SYSLOG_IDENTIFIER
    std::string command;           // _COMM, the identifier when there is none
    std::string syslog_pid;        // SYSLOG_PID
    std::string pid;               // _PID, the pid when there is no SYSLOG_PID
    std::string message;           // MESSAGE, bytes as stored
    std::string priority;          // PRIORITY: syslog's, "0" (emerg) to "7" (debug)
};

} // namespace exim_ban
