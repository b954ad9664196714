#include "firewall/batch_plan.hpp"

namespace exim_ban {
namespace {

constexpr IpAddress::Family families[] = {IpAddress::Family::v4, IpAddress::Family::v6};

void plan_structure(const std::vector<FirewallJail>& jails, const TableRepair& repair,
                    std::vector<BatchStep>& steps) {
    steps.push_back({.kind = BatchStep::Kind::add_table});
    for (std::size_t j = 0; j < jails.size(); ++j) {
        for (const auto family : families)
            steps.push_back({.kind = BatchStep::Kind::add_set, .jail = j, .family = family});
    }
    // The rules look the sets up, so they come after them.
    steps.push_back({.kind = BatchStep::Kind::add_input_chain});
    for (std::size_t j = 0; j < jails.size(); ++j)
        steps.push_back({.kind = BatchStep::Kind::add_jail_rules, .jail = j});
    for (const auto& set : repair.stale_sets)
        steps.push_back({.kind = BatchStep::Kind::delete_set, .stale_set = set});
}

} // namespace

std::vector<BatchStep> plan_batch(const std::vector<FirewallJail>& jails,
                                  const std::optional<TableRepair>& repair,
                                  std::span<const ElementWrite> writes) {
    std::vector<BatchStep> steps;
    if (repair)
        plan_structure(jails, *repair, steps);

    // A robust write cannot fail on its element's presence: add, delete,
    // add for an add (the new timeout holds on every kernel), add, delete
    // for a remove. Each element appears once per step, so the order within
    // a step is free.
    struct SetSteps {
        std::vector<std::size_t> pre_add, remove, add_exclusive, add;
    };
    std::vector<SetSteps> sets(jails.size() * 2);
    for (std::size_t i = 0; i < writes.size(); ++i) {
        const ElementWrite& write = writes[i];
        const bool v6 = write.change.element.family == IpAddress::Family::v6;
        SetSteps& set = sets[write.change.jail * 2 + (v6 ? 1 : 0)];
        const bool add = write.change.kind == ElementChangeKind::add;
        if (write.robust)
            set.pre_add.push_back(i);
        if (write.robust || !add)
            set.remove.push_back(i);
        if (add)
            (write.robust ? set.add : set.add_exclusive).push_back(i);
    }
    for (std::size_t s = 0; s < sets.size(); ++s) {
        const auto emit = [&](NftBatch::ElementOperation operation,
                              const std::vector<std::size_t>& indices) {
            for (std::size_t start = 0; start < indices.size();
                 start += NftBatch::max_elements_per_message) {
                const auto first = indices.begin() + static_cast<std::ptrdiff_t>(start);
                const auto last = indices.begin() +
                                  static_cast<std::ptrdiff_t>(std::min(
                                      indices.size(), start + NftBatch::max_elements_per_message));
                steps.push_back({.kind = BatchStep::Kind::elements,
                                 .jail = s / 2,
                                 .family = families[s % 2],
                                 .operation = operation,
                                 .writes = std::vector<std::size_t>(first, last)});
            }
        };
        emit(NftBatch::ElementOperation::add, sets[s].pre_add);
        emit(NftBatch::ElementOperation::remove, sets[s].remove);
        emit(NftBatch::ElementOperation::add_exclusive, sets[s].add_exclusive);
        emit(NftBatch::ElementOperation::add, sets[s].add);
    }
    return steps;
}

} // namespace exim_ban
