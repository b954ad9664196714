// `exim-banctl nft-list [--json]` and `exim-banctl nft-flush`: the kernel
// side of exim-ban without the daemon. Both need CAP_NET_ADMIN (root).
#pragma once

#include <ostream>

namespace exim_ban {

// Prints the elements of table inet exim_ban: jail, element, time left,
// timeout, packets and bytes blocked; as a table, or with `json` as one
// JSON object (element_json). Returns the exit code: 0, also when there is
// no table; 1 when the kernel cannot be read (the reason goes to `err`).
int run_nft_list(bool json, std::ostream& out, std::ostream& err);

// Deletes table inet exim_ban (every ban in the kernel; the daemon's store
// keeps them) and nothing else. Returns 0 when it is gone or was not there,
// 1 when the kernel refused (the reason goes to `err`).
int run_nft_flush(std::ostream& out, std::ostream& err);

} // namespace exim_ban
