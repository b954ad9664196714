// The process's limit on open descriptors (RLIMIT_NOFILE), raised so that
// the control socket's connections fit beside the daemon's own files:
// systemd starts a service with a soft limit of 1024 (for programs that
// still use select()) under a far higher hard limit.
#pragma once

#include <cstdint>

namespace exim_ban {

struct DescriptorLimits {
    std::uint64_t soft = 0;
    std::uint64_t hard = 0; // RLIM_INFINITY reads as the largest value
};

// The soft limit to set for `wanted` descriptors: `wanted`, but never above
// the hard limit nor below the soft limit already in force.
std::uint64_t raised_soft_limit(DescriptorLimits current, std::uint64_t wanted);

struct DescriptorLimitChange {
    DescriptorLimits before;
    DescriptorLimits after; // == before when nothing changed or it failed
    int error = 0;          // errno of prlimit, 0 on success
};

// Raises this process's soft RLIMIT_NOFILE to raised_soft_limit(current,
// wanted). Never throws; a refusal is reported in `error`.
DescriptorLimitChange raise_descriptor_limit(std::uint64_t wanted);

} // namespace exim_ban
