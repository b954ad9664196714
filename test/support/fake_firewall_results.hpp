// A FirewallResults for tests of the parts that commit to the firewall (the
// batcher, the admin's changes): it records what each commit came to, with
// no keeper behind.
#pragma once

#include "firewall/firewall.hpp"
#include "pipeline/firewall_results.hpp"

#include <string>
#include <utility>
#include <vector>

namespace exim_ban::testing {

class FakeFirewallResults final : public FirewallResults {
  public:
    void note(const CommitResult& result, const char* what) override {
        notes.emplace_back(result.ok(), what);
    }
    // Whether each commit went through, and what it held.
    std::vector<std::pair<bool, std::string>> notes;
};

} // namespace exim_ban::testing
