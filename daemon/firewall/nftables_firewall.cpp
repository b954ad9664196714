#include "firewall/nftables_firewall.hpp"

#include "firewall/firewall_setup_error.hpp"
#include "firewall/netlink_socket.hpp"
#include "firewall/nft_batch.hpp"
#include "firewall/nft_reader.hpp"
#include "firewall/reconcile_plan.hpp"
#include "firewall/table_check.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <spdlog/spdlog.h>
#include <tuple>

namespace exim_ban {
namespace {

const std::string table_text = "table inet " + std::string(firewall_table_name);

std::string error_text(int error) {
    switch (error) {
    case EPERM:
    case EACCES:
        return "permission denied: nftables needs CAP_NET_ADMIN (run as root, or grant the "
               "capability)";
    case EOPNOTSUPP:
    case EPROTONOSUPPORT:
    case EAFNOSUPPORT:
        return std::string(std::strerror(error)) +
               ": this kernel lacks what exim-ban needs (nf_tables with per-element counters, "
               "Linux 5.11 or newer; `modprobe nf_tables`)";
    default:
        return std::strerror(error);
    }
}

FirewallFault fault(int error, const std::string& what) {
    return FirewallFault{error, what + ": " + error_text(error)};
}

std::size_t set_index(const ElementChange& change) {
    return change.jail * 2 + (change.element.family == IpAddress::Family::v6 ? 1 : 0);
}

std::string change_text(const ElementChange& change, const FirewallJail& jail) {
    return std::string(change.kind == ElementChangeKind::add ? "add " : "remove ") +
           change.key.to_string() + (change.kind == ElementChangeKind::add ? " to " : " from ") +
           jail_set_name(jail.name, change.element.family);
}

// Which messages of a batch carry what, to pin the kernel's reports.
struct SequenceRange {
    std::uint32_t first;
    std::uint32_t end;
    std::string what; // a structure part; empty for element messages
    std::vector<std::size_t> writes;
};

const SequenceRange* find_range(const std::vector<SequenceRange>& ranges, std::uint32_t sequence) {
    // Ranges are appended in sequence order.
    const auto found =
        std::upper_bound(ranges.begin(), ranges.end(), sequence,
                         [](std::uint32_t s, const SequenceRange& range) { return s < range.end; });
    if (found == ranges.end() || sequence < found->first)
        return nullptr;
    return &*found;
}

} // namespace

NftablesFirewall::NftablesFirewall()
    : socket_(std::make_unique<NetlinkSocket>()) {}

NftablesFirewall::~NftablesFirewall() = default;

void NftablesFirewall::setup(const std::vector<FirewallJail>& jails) {
    if (const auto problem = jails_problem(jails))
        throw FirewallSetupError(*problem, EINVAL);
    // A reload that fails leaves the jails (and the kernel) as they were.
    const std::vector<FirewallJail> previous = staged_.jails();
    staged_.set_jails(jails);
    const auto refuse = [&](const FirewallFault& problem) {
        staged_.set_jails(previous);
        throw FirewallSetupError(problem.message, problem.error);
    };

    Structure structure;
    if (const auto problem = plan_structure(structure))
        refuse(*problem);
    bool set_missing = false;
    const BatchAttempt sent = send_batch({}, structure, set_missing);
    if (sent.status != BatchAttempt::Status::applied)
        refuse(sent.fault);
    for (const auto& set : structure.stale_sets)
        spdlog::info("firewall: deleted set {} of a jail no longer configured", set);
}

std::optional<FirewallFault> NftablesFirewall::plan_structure(Structure& structure) {
    TableSnapshot table;
    if (const int error = read_table(*socket_, table); error != 0)
        return fault(error, "cannot read " + table_text);
    const TableCheck check = check_table(table, staged_.jails());
    for (const auto& object : check.left_alone)
        spdlog::warn("firewall: {} holds {}, which exim-ban did not make; left as it is",
                     table_text, object);
    if (!check.in_the_way.empty()) {
        std::string message = table_text + " holds what exim-ban did not make and cannot use:";
        for (const auto& object : check.in_the_way)
            message += "\n  " + object;
        message += "\nRemove it (for a set: `nft delete set inet exim_ban NAME`), or the whole "
                   "table with `exim-banctl nft-flush` (the daemon restores its bans from its "
                   "store), then start again.";
        return FirewallFault{EEXIST, message};
    }
    structure.pending = true;
    structure.stale_sets = check.stale_sets;
    return std::nullopt;
}

void NftablesFirewall::add(std::string_view jail, const BanKey& key,
                           std::chrono::milliseconds timeout) {
    staged_.add(jail, key, timeout);
}

void NftablesFirewall::remove(std::string_view jail, const BanKey& key) {
    staged_.remove(jail, key);
}

CommitResult NftablesFirewall::commit() {
    TakenChanges taken = staged_.take();
    std::vector<ElementWrite> writes;
    writes.reserve(taken.changes.size());
    for (auto& change : taken.changes)
        writes.push_back(ElementWrite{change, false});
    Structure structure;
    return send_writes(std::move(writes), structure, std::move(taken.refused));
}

BatchAttempt NftablesFirewall::send_batch(std::span<const ElementWrite> writes,
                                          Structure& structure, bool& set_missing) {
    const auto& jails = staged_.jails();
    NftBatch batch(socket_->reserve_sequence(0));
    std::vector<SequenceRange> ranges;
    const auto part = [&](const std::string& what, auto&& append) {
        const std::uint32_t first = batch.next_sequence();
        append();
        ranges.push_back(SequenceRange{first, batch.next_sequence(), what, {}});
    };

    if (structure.pending) {
        part(table_text, [&] { batch.add_table(); });
        for (const auto& jail : jails) {
            for (const auto family : {IpAddress::Family::v4, IpAddress::Family::v6})
                part("set " + jail_set_name(jail.name, family) + " in " + table_text,
                     [&] { batch.add_jail_set(jail, family); });
        }
        part("chain input in " + table_text, [&] {
            batch.add_input_chain();
            batch.flush_input_chain();
        });
        for (const auto& jail : jails)
            part("the rules of jail " + jail.name, [&] { batch.add_jail_rules(jail); });
        for (const auto& set : structure.stale_sets)
            part("set " + set + " (of a jail no longer configured)",
                 [&] { batch.delete_set(set); });
    }

    // Per set: robust writes first add their element (so that the delete
    // cannot miss), then all deletes, then the plain and the final adds.
    // Each element appears once per step, so the order within a step is free.
    struct Steps {
        std::vector<std::size_t> pre_add, remove, add_exclusive, add;
    };
    std::vector<Steps> steps(jails.size() * 2);
    for (std::size_t i = 0; i < writes.size(); ++i) {
        const ElementWrite& write = writes[i];
        Steps& set = steps[set_index(write.change)];
        if (write.change.kind == ElementChangeKind::add) {
            if (write.robust) {
                set.pre_add.push_back(i);
                set.remove.push_back(i);
                set.add.push_back(i);
            } else {
                set.add_exclusive.push_back(i);
            }
        } else {
            if (write.robust)
                set.pre_add.push_back(i);
            set.remove.push_back(i);
        }
    }
    std::vector<NftBatch::ElementEntry> entries;
    const auto emit = [&](NftBatch::ElementOperation operation, const std::string& set,
                          const std::vector<std::size_t>& indices) {
        for (std::size_t start = 0; start < indices.size();
             start += NftBatch::max_elements_per_message) {
            const std::size_t end =
                std::min(indices.size(), start + NftBatch::max_elements_per_message);
            entries.clear();
            for (std::size_t n = start; n < end; ++n) {
                const ElementChange& change = writes[indices[n]].change;
                // A robust remove's first step adds the element for a moment.
                const auto timeout = change.kind == ElementChangeKind::add
                                         ? change.timeout
                                         : std::chrono::milliseconds{1000};
                entries.push_back({&change.element, timeout});
            }
            const std::uint32_t sequence = batch.elements(operation, set, entries);
            ranges.push_back(SequenceRange{
                sequence,
                sequence + 1,
                {},
                std::vector<std::size_t>(indices.begin() + static_cast<std::ptrdiff_t>(start),
                                         indices.begin() + static_cast<std::ptrdiff_t>(end))});
        }
    };
    for (std::size_t s = 0; s < steps.size(); ++s) {
        const std::string set = jail_set_name(
            jails[s / 2].name, s % 2 == 0 ? IpAddress::Family::v4 : IpAddress::Family::v6);
        emit(NftBatch::ElementOperation::add, set, steps[s].pre_add);
        emit(NftBatch::ElementOperation::remove, set, steps[s].remove);
        emit(NftBatch::ElementOperation::add_exclusive, set, steps[s].add_exclusive);
        emit(NftBatch::ElementOperation::add, set, steps[s].add);
    }

    socket_->reserve_sequence(batch.sequences_used());
    const NetlinkSocket::BatchReply reply = socket_->send_batch(batch.finish());

    BatchAttempt attempt;
    if (reply.socket_error != 0) {
        attempt.status = BatchAttempt::Status::broken;
        attempt.fault = fault(reply.socket_error, "cannot send a batch to nf_tables");
        return attempt;
    }
    if (reply.errors.empty()) {
        structure.pending = false;
        return attempt;
    }
    attempt.status = BatchAttempt::Status::refused;
    attempt.errors.assign(writes.size(), 0);
    for (const auto& [sequence, error] : reply.errors) {
        const SequenceRange* range = find_range(ranges, sequence);
        if (range == nullptr || !range->what.empty()) {
            // The batch as a whole (no permission) or the table's
            // structure: no element is to blame.
            attempt.status = BatchAttempt::Status::broken;
            attempt.fault = fault(error, range == nullptr ? "nf_tables refused the batch"
                                                          : "nf_tables refused " + range->what);
            return attempt;
        }
        for (const std::size_t i : range->writes) {
            if (attempt.errors[i] == 0)
                attempt.errors[i] = error;
        }
        // Elements refused because their set is gone (deleted by hand).
        if (error == ENOENT &&
            std::any_of(range->writes.begin(), range->writes.end(), [&](std::size_t i) {
                return writes[i].change.kind == ElementChangeKind::add || writes[i].robust;
            }))
            set_missing = true;
    }
    return attempt;
}

CommitResult NftablesFirewall::send_writes(std::vector<ElementWrite> writes, Structure& structure,
                                           std::vector<ElementFailure> failures) {
    CommitResult result;
    result.failures = std::move(failures);
    if (writes.empty() && !structure.pending)
        return result;

    bool repaired = false;
    const BatchSender sender = [&](std::span<const ElementWrite> batch) {
        bool set_missing = false;
        BatchAttempt sent = send_batch(batch, structure, set_missing);
        if (sent.status == BatchAttempt::Status::refused && set_missing && !repaired) {
            // Someone deleted a set or the table under us: make them again
            // (once per commit) rather than refuse every element.
            repaired = true;
            if (const auto problem = plan_structure(structure)) {
                sent.status = BatchAttempt::Status::broken;
                sent.fault = *problem;
                return sent;
            }
            spdlog::warn("firewall: {} was changed by hand; repairing it", table_text);
            sent = send_batch(batch, structure, set_missing);
        }
        return sent;
    };
    const std::vector<ElementWrite> sent_writes = writes;
    const RetryResult retried = send_with_retry(std::move(writes), sender);
    if (sent_writes.empty() && structure.pending) {
        bool set_missing = false;
        const BatchAttempt sent = send_batch({}, structure, set_missing);
        if (sent.status != BatchAttempt::Status::applied)
            result.fault = sent.fault;
    }

    const auto& jails = staged_.jails();
    for (std::size_t i = 0; i < sent_writes.size(); ++i) {
        const ElementChange& change = sent_writes[i].change;
        const WriteOutcome& outcome = retried.outcomes[i];
        if (outcome.status == WriteOutcome::Status::applied) {
            ++(change.kind == ElementChangeKind::add ? result.added : result.removed);
        } else if (outcome.status == WriteOutcome::Status::refused) {
            const FirewallJail& jail = jails[change.jail];
            result.failures.push_back(
                ElementFailure{change.kind, jail.name, change.key, outcome.error,
                               "nf_tables refused to " + change_text(change, jail) + ": " +
                                   error_text(outcome.error)});
        }
    }
    if (retried.fault)
        result.fault = retried.fault;
    result.repaired = repaired;
    return result;
}

ListResult NftablesFirewall::list() {
    ListResult result;
    TableSnapshot table;
    if (const int error = read_table(*socket_, table); error != 0) {
        result.fault = fault(error, "cannot read " + table_text);
        return result;
    }
    result.table_present = table.exists;
    if (!table.exists)
        return result;
    std::map<std::string, int> prefixes;
    if (const int error = read_lookup_prefixes(*socket_, prefixes); error != 0) {
        result.fault = fault(error, "cannot read the rules of " + table_text);
        return result;
    }
    for (const auto& set : table.sets) {
        const auto jail_set = parse_jail_set_name(set.name);
        if (!jail_set || set.key_type != jail_set_key_type(jail_set->family) ||
            set.key_length != jail_set_key_length(jail_set->family))
            continue;
        std::vector<KernelElement> elements;
        if (const int error = read_elements(*socket_, set.name, jail_set->family, elements);
            error != 0) {
            if (error == ENOENT)
                continue; // deleted while we read
            result.fault = fault(error, "cannot read set " + set.name);
            return result;
        }
        const auto prefix = prefixes.find(set.name);
        const int ipv6_prefix = prefix == prefixes.end() ? 128 : prefix->second;
        for (const auto& element : elements) {
            const auto key = ban_key_of_element(element.key.data(), ipv6_prefix);
            if (!key)
                continue; // an IPv4-mapped address put in by hand: no ban key
            result.elements.push_back(FirewallElement{jail_set->jail, *key, element.timeout,
                                                      element.expires, element.packets,
                                                      element.bytes});
        }
    }
    std::sort(result.elements.begin(), result.elements.end(), [](const auto& a, const auto& b) {
        return std::tie(a.jail, a.key) < std::tie(b.jail, b.key);
    });
    return result;
}

CommitResult NftablesFirewall::reconcile(const std::vector<ActiveBan>& bans) {
    CommitResult result;
    const auto& jails = staged_.jails();
    Structure structure;
    if (const auto problem = plan_structure(structure)) {
        result.fault = problem;
        return result;
    }

    std::vector<PlannedElement> wanted;
    wanted.reserve(bans.size());
    for (const auto& ban : bans) {
        const auto jail = staged_.find_jail(ban.jail);
        if (!jail) {
            result.failures.push_back(
                ElementFailure{ElementChangeKind::add, ban.jail, ban.key, ENOENT,
                               "no jail '" + ban.jail + "' in the firewall setup"});
            continue;
        }
        const auto element = element_key(ban.key, jails[*jail].ipv6_prefix);
        if (!element) {
            result.failures.push_back(
                ElementFailure{ElementChangeKind::add, ban.jail, ban.key, EINVAL,
                               element_key_problem(ban.key, jails[*jail].ipv6_prefix)});
            continue;
        }
        wanted.push_back(PlannedElement{*jail, *element, ban.remaining});
    }

    std::vector<PlannedElement> present;
    for (std::size_t j = 0; j < jails.size(); ++j) {
        for (const auto family : {IpAddress::Family::v4, IpAddress::Family::v6}) {
            std::vector<KernelElement> elements;
            const int error =
                read_elements(*socket_, jail_set_name(jails[j].name, family), family, elements);
            if (error == ENOENT)
                continue; // no set yet: the batch makes it
            if (error != 0) {
                result.fault =
                    fault(error, "cannot read set " + jail_set_name(jails[j].name, family));
                return result;
            }
            for (const auto& element : elements)
                present.push_back(PlannedElement{j, element.key, element.expires});
        }
    }

    const ReconcilePlan plan =
        plan_reconcile(std::move(wanted), std::move(present), reconcile_tolerance);
    const auto key_of = [&](const PlannedElement& element) {
        return ban_key_of_element(element.element.data(), jails[element.jail].ipv6_prefix)
            .value_or(BanKey(IpAddress::from_v6(element.element.bytes), 128));
    };
    std::vector<ElementWrite> writes;
    writes.reserve(plan.add.size() + plan.renew.size() + plan.remove.size());
    for (const auto& element : plan.add)
        writes.push_back({{ElementChangeKind::add, element.jail, key_of(element), element.element,
                           element.remaining},
                          false});
    for (const auto& element : plan.renew)
        writes.push_back({{ElementChangeKind::add, element.jail, key_of(element), element.element,
                           element.remaining},
                          true});
    for (const auto& element : plan.remove)
        writes.push_back(
            {{ElementChangeKind::remove, element.jail, key_of(element), element.element, {}},
             false});
    CommitResult sent = send_writes(std::move(writes), structure, std::move(result.failures));
    return sent;
}

std::optional<FirewallFault> NftablesFirewall::remove_all() {
    NftBatch batch(socket_->reserve_sequence(0));
    batch.delete_table();
    socket_->reserve_sequence(batch.sequences_used());
    const NetlinkSocket::BatchReply reply = socket_->send_batch(batch.finish());
    if (reply.socket_error != 0)
        return fault(reply.socket_error, "cannot send a batch to nf_tables");
    for (const auto& [sequence, error] : reply.errors) {
        if (error != ENOENT)
            return fault(error, "cannot delete " + table_text);
    }
    return std::nullopt;
}

} // namespace exim_ban
