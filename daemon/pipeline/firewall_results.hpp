// What a part of the pipeline that commits to the firewall (the batcher, the
// admin's changes) says after each commit, to the one that keeps the kernel
// in step with the store (FirewallHealth): the committers need not know how
// the firewall recovers.
#pragma once

namespace exim_ban {

struct CommitResult;

class FirewallResults {
  public:
    virtual ~FirewallResults() = default;
    // The result of one commit of staged changes; `what` names them for the
    // logs ("ban", "unban", "knock renewal").
    virtual void note(const CommitResult& result, const char* what) = 0;
};

} // namespace exim_ban
