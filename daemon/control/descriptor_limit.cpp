#include "control/descriptor_limit.hpp"

#include <algorithm>
#include <cerrno>
#include <sys/resource.h>

namespace exim_ban {

std::uint64_t raised_soft_limit(DescriptorLimits current, std::uint64_t wanted) {
    return std::max(current.soft, std::min(wanted, current.hard));
}

DescriptorLimitChange raise_descriptor_limit(std::uint64_t wanted) {
    DescriptorLimitChange change;
    rlimit limits{};
    // prlimit rather than setrlimit: exim-ban.service filters the setrlimit
    // system call (@resources) but lets prlimit64 through (@default), and
    // raising a soft limit up to the hard one needs no privilege anyway.
    if (::prlimit(0, RLIMIT_NOFILE, nullptr, &limits) != 0) {
        change.error = errno;
        return change;
    }
    change.before = {limits.rlim_cur, limits.rlim_max};
    change.after = change.before;
    const std::uint64_t soft = raised_soft_limit(change.before, wanted);
    if (soft == change.before.soft)
        return change;
    limits.rlim_cur = soft;
    if (::prlimit(0, RLIMIT_NOFILE, &limits, nullptr) != 0) {
        change.error = errno;
        return change;
    }
    change.after.soft = soft;
    return change;
}

} // namespace exim_ban
