#include "firewall/nftables_firewall.hpp"

#include "firewall/batch_plan.hpp"
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
    : NftablesFirewall(std::make_unique<NetlinkSocket>()) {}

NftablesFirewall::NftablesFirewall(std::unique_ptr<NetlinkChannel> channel)
    : channel_(std::move(channel)) {}

NftablesFirewall::~NftablesFirewall() = default;

void NftablesFirewall::setup(const std::vector<FirewallJail>& jails) {
    if (const auto problem = jails_problem(jails))
        throw FirewallSetupError(*problem);
    // A reload that fails leaves the jails (and the kernel) as they were.
    const std::vector<FirewallJail> previous = stage().jails();
    stage().set_jails(jails);
    const auto refuse = [&](const FirewallFault& problem) {
        stage().set_jails(previous);
        throw FirewallSetupError(problem.message);
    };

    std::optional<TableRepair> repair;
    if (const auto problem = plan_repair(repair))
        refuse(*problem);
    const std::vector<std::string> stale_sets = repair->stale_sets;
    bool set_missing = false;
    const BatchAttempt sent = send_batch({}, repair, set_missing);
    if (sent.status != BatchAttempt::Status::applied)
        refuse(sent.fault);
    for (const auto& set : stale_sets)
        spdlog::info("firewall: deleted set {} of a jail no longer configured", set);
}

std::optional<FirewallFault> NftablesFirewall::plan_repair(std::optional<TableRepair>& repair) {
    TableSnapshot table;
    if (const int error = read_table(*channel_, table); error != 0)
        return fault(error, "cannot read " + table_text);
    const TableCheck check = check_table(table, stage().jails());
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
    repair = TableRepair{check.stale_sets};
    return std::nullopt;
}

CommitResult NftablesFirewall::commit() {
    TakenChanges taken = stage().take();
    std::vector<ElementWrite> writes;
    writes.reserve(taken.changes.size());
    for (auto& change : taken.changes)
        writes.push_back(ElementWrite{change, false});
    std::optional<TableRepair> repair;
    return send_writes(std::move(writes), repair, std::move(taken.refused));
}

BatchAttempt NftablesFirewall::send_batch(std::span<const ElementWrite> writes,
                                          std::optional<TableRepair>& repair, bool& set_missing) {
    const auto& jails = stage().jails();
    NftBatch batch(channel_->reserve_sequence(0));
    std::vector<SequenceRange> ranges;
    std::vector<NftBatch::ElementEntry> entries;
    for (BatchStep& step : plan_batch(jails, repair, writes)) {
        const std::uint32_t first = batch.next_sequence();
        std::string what; // a structure part, to name it when the kernel refuses it
        switch (step.kind) {
        case BatchStep::Kind::add_table:
            batch.add_table();
            what = table_text;
            break;
        case BatchStep::Kind::add_set:
            batch.add_jail_set(jails[step.jail], step.family);
            what = "set " + jail_set_name(jails[step.jail].name, step.family) + " in " + table_text;
            break;
        case BatchStep::Kind::add_input_chain:
            batch.add_input_chain();
            batch.flush_input_chain();
            what = "chain input in " + table_text;
            break;
        case BatchStep::Kind::add_jail_rules:
            batch.add_jail_rules(jails[step.jail]);
            what = "the rules of jail " + jails[step.jail].name;
            break;
        case BatchStep::Kind::delete_set:
            batch.delete_set(step.stale_set);
            what = "set " + step.stale_set + " (of a jail no longer configured)";
            break;
        case BatchStep::Kind::elements:
            entries.clear();
            for (const std::size_t i : step.writes) {
                const ElementChange& change = writes[i].change;
                // A robust remove's first step adds the element for a moment.
                const auto timeout = change.kind == ElementChangeKind::add
                                         ? change.timeout
                                         : std::chrono::milliseconds{1000};
                entries.push_back({&change.element, timeout});
            }
            batch.elements(step.operation, jail_set_name(jails[step.jail].name, step.family),
                           entries);
            break;
        }
        ranges.push_back(
            SequenceRange{first, batch.next_sequence(), std::move(what), std::move(step.writes)});
    }

    channel_->reserve_sequence(batch.sequences_used());
    const NetlinkChannel::BatchReply reply = channel_->send_batch(batch.finish());

    BatchAttempt attempt;
    if (reply.socket_error != 0) {
        attempt.status = BatchAttempt::Status::broken;
        attempt.fault = fault(reply.socket_error, "cannot send a batch to nf_tables");
        return attempt;
    }
    if (reply.errors.empty()) {
        repair.reset();
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

CommitResult NftablesFirewall::send_writes(std::vector<ElementWrite> writes,
                                           std::optional<TableRepair>& repair,
                                           std::vector<ElementFailure> failures) {
    CommitResult result;
    result.failures = std::move(failures);
    if (writes.empty() && !repair)
        return result;

    bool repaired = false;
    const BatchSender sender = [&](std::span<const ElementWrite> batch) {
        bool set_missing = false;
        BatchAttempt sent = send_batch(batch, repair, set_missing);
        if (sent.status == BatchAttempt::Status::refused && set_missing && !repaired) {
            // Someone deleted a set or the table under us: make them again
            // (once per commit) rather than refuse every element.
            repaired = true;
            if (const auto problem = plan_repair(repair)) {
                sent.status = BatchAttempt::Status::broken;
                sent.fault = *problem;
                return sent;
            }
            spdlog::warn("firewall: {} was changed by hand; repairing it", table_text);
            sent = send_batch(batch, repair, set_missing);
        }
        return sent;
    };
    const std::vector<ElementWrite> sent_writes = writes;
    const RetryResult retried = send_with_retry(std::move(writes), sender);
    if (sent_writes.empty() && repair) {
        bool set_missing = false;
        const BatchAttempt sent = send_batch({}, repair, set_missing);
        if (sent.status != BatchAttempt::Status::applied)
            result.fault = sent.fault;
    }

    const auto& jails = stage().jails();
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
    if (const int error = read_table(*channel_, table); error != 0) {
        result.fault = fault(error, "cannot read " + table_text);
        return result;
    }
    result.table_present = table.exists;
    if (!table.exists)
        return result;
    std::map<std::string, int> prefixes;
    if (const int error = read_lookup_prefixes(*channel_, prefixes); error != 0) {
        result.fault = fault(error, "cannot read the rules of " + table_text);
        return result;
    }
    for (const auto& set : table.sets) {
        const auto jail_set = parse_jail_set_name(set.name);
        if (!jail_set || set.key_type != jail_set_key_type(jail_set->family) ||
            set.key_length != jail_set_key_length(jail_set->family))
            continue;
        std::vector<KernelElement> elements;
        if (const int error = read_elements(*channel_, set.name, jail_set->family, elements);
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
    const auto& jails = stage().jails();
    std::optional<TableRepair> repair;
    if (const auto problem = plan_repair(repair)) {
        result.fault = problem;
        return result;
    }

    std::vector<PlannedElement> wanted = wanted_elements(bans, stage(), result.failures);

    std::vector<PlannedElement> present;
    for (std::size_t j = 0; j < jails.size(); ++j) {
        for (const auto family : {IpAddress::Family::v4, IpAddress::Family::v6}) {
            std::vector<KernelElement> elements;
            const int error =
                read_elements(*channel_, jail_set_name(jails[j].name, family), family, elements);
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
    std::vector<ElementWrite> writes = reconcile_writes(plan, jails);
    CommitResult sent = send_writes(std::move(writes), repair, std::move(result.failures));
    return sent;
}

std::optional<FirewallFault> NftablesFirewall::remove_all() {
    NftBatch batch(channel_->reserve_sequence(0));
    batch.delete_table();
    channel_->reserve_sequence(batch.sequences_used());
    const NetlinkChannel::BatchReply reply = channel_->send_batch(batch.finish());
    if (reply.socket_error != 0)
        return fault(reply.socket_error, "cannot send a batch to nf_tables");
    for (const auto& [sequence, error] : reply.errors) {
        if (error != ENOENT)
            return fault(error, "cannot delete " + table_text);
    }
    return std::nullopt;
}

} // namespace exim_ban
