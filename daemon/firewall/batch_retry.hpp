// Commit with retry: one batch for all changes while the kernel takes it;
// when it refuses, only the refused parts are tried again, so that one bad
// element cannot block the rest and each refusal is pinned on its element.
// Pure: the batch is sent by a function the backend supplies.
#pragma once

#include "firewall/firewall_values.hpp"
#include "firewall/staged_changes.hpp"

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

namespace exim_ban {

// A change as sent. A plain add fails with EEXIST when the element is
// there, a plain remove with ENOENT when it is not (one netlink message each
// per element, the fast path). A robust write cannot fail for those
// reasons: an add is sent as add, delete, add (so the new timeout holds on
// any kernel), a remove as add, delete; it costs two or three messages.
struct ElementWrite {
    ElementChange change;
    bool robust = false;
};

struct BatchAttempt {
    enum class Status { applied, refused, broken };
    Status status = Status::applied;
    // refused: for each write, the error of the message it was in, 0 for
    // those in messages the kernel accepted (the whole batch was undone all
    // the same). At least one is non-zero.
    std::vector<int> errors;
    FirewallFault fault; // broken: why nothing could be sent
};

// Sends `writes` as one batch, all or nothing.
using BatchSender = std::function<BatchAttempt(std::span<const ElementWrite> writes)>;

struct WriteOutcome {
    enum class Status { applied, refused, not_sent };
    Status status = Status::not_sent;
    int error = 0; // refused: the kernel's errno
};

struct RetryResult {
    std::vector<WriteOutcome> outcomes; // one per write, in order
    std::optional<FirewallFault> fault; // the first broken attempt; later writes not sent
    std::size_t batches = 0;
};

// Sends all writes in as few batches as the kernel lets it: first all of
// them; after a refusal, a plain write refused for its element's presence
// or absence becomes robust and the batch is sent again; otherwise the writes
// of accepted messages are sent together and the refused ones are split in
// halves until each refused write stands alone.
RetryResult send_with_retry(std::vector<ElementWrite> writes, const BatchSender& send);

} // namespace exim_ban
