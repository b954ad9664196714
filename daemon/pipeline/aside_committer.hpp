// What BanAdmin needs of the batcher: a batch of changes made outside the
// log (the admin's bans and unbans, the knock watch's renewals) committed
// to the store alone, after the open batch, so that the store never holds
// a change before the lines read ahead of it.
#pragma once

#include "store/store.hpp"

#include <optional>
#include <string>

namespace exim_ban {

class AsideCommitter {
  public:
    virtual ~AsideCommitter() = default;
    // Commits the open batch, then `batch` with the positions read so far.
    // Returns what went wrong (either refused), or nullopt.
    virtual std::optional<std::string> commit_aside(Batch batch) = 0;
};

} // namespace exim_ban
