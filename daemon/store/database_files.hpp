// The files SQLite keeps beside a database: its name plus one of these.
// What moves, copies or hands over a database takes them along.
#pragma once

#include <array>

namespace exim_ban {

inline constexpr std::array<const char*, 3> database_companion_suffixes{"-wal", "-shm", "-journal"};

} // namespace exim_ban
