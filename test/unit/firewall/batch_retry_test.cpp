#include "firewall/batch_retry.hpp"

#include <catch2/catch.hpp>
#include <cerrno>
#include <set>

using namespace exim_ban;
using std::chrono::milliseconds;

namespace {

// A kernel in miniature: writes go in messages of `per_message`; a message
// is refused with the error of its first bad write; one refused message
// undoes the whole batch.
struct FakeKernel {
    std::size_t per_message = 4;
    std::set<std::uint32_t> present;
    std::set<std::uint32_t> bad; // always refused, EINVAL
    std::size_t batches = 0;
    std::size_t break_at_batch = 0; // 0: never

    static std::uint32_t id(const ElementWrite& write) {
        return write.change.key.network().v4_value();
    }

    int error_of(const ElementWrite& write) const {
        const std::uint32_t key = id(write);
        if (bad.count(key) != 0)
            return EINVAL;
        if (write.robust)
            return 0;
        const bool there = present.count(key) != 0;
        if (write.change.kind == ElementChangeKind::add && there)
            return EEXIST;
        if (write.change.kind == ElementChangeKind::remove && !there)
            return ENOENT;
        return 0;
    }

    BatchAttempt send(std::span<const ElementWrite> writes) {
        ++batches;
        BatchAttempt attempt;
        if (break_at_batch != 0 && batches >= break_at_batch) {
            attempt.status = BatchAttempt::Status::broken;
            attempt.fault = FirewallFault{ENOBUFS, "socket broke"};
            return attempt;
        }
        std::vector<int> errors(writes.size(), 0);
        bool refused = false;
        for (std::size_t start = 0; start < writes.size(); start += per_message) {
            const std::size_t end = std::min(writes.size(), start + per_message);
            int message_error = 0;
            for (std::size_t i = start; i < end && message_error == 0; ++i)
                message_error = error_of(writes[i]);
            if (message_error != 0) {
                refused = true;
                for (std::size_t i = start; i < end; ++i)
                    errors[i] = message_error;
            }
        }
        if (refused) {
            attempt.status = BatchAttempt::Status::refused;
            attempt.errors = errors;
            return attempt;
        }
        for (const auto& write : writes) {
            if (write.change.kind == ElementChangeKind::add)
                present.insert(id(write));
            else
                present.erase(id(write));
        }
        return attempt;
    }
};

std::vector<ElementWrite> writes(ElementChangeKind kind, std::uint32_t first, std::uint32_t count) {
    std::vector<ElementWrite> result;
    for (std::uint32_t i = first; i < first + count; ++i) {
        const BanKey key(IpAddress::from_v4(i));
        result.push_back(
            {ElementChange{kind, 0, key, *element_key(key, 64), milliseconds{1000}}, false});
    }
    return result;
}

RetryResult run(FakeKernel& kernel, std::vector<ElementWrite> batch) {
    return send_with_retry(std::move(batch),
                           [&](std::span<const ElementWrite> w) { return kernel.send(w); });
}

std::size_t count(const RetryResult& result, WriteOutcome::Status status) {
    return static_cast<std::size_t>(
        std::count_if(result.outcomes.begin(), result.outcomes.end(),
                      [&](const WriteOutcome& outcome) { return outcome.status == status; }));
}

} // namespace

TEST_CASE("a batch the kernel takes is sent once", "[firewall][retry]") {
    FakeKernel kernel;
    const RetryResult result = run(kernel, writes(ElementChangeKind::add, 1, 1000));
    CHECK(result.batches == 1);
    CHECK(count(result, WriteOutcome::Status::applied) == 1000);
    CHECK_FALSE(result.fault);
    CHECK(kernel.present.size() == 1000);
}

TEST_CASE("nothing to send sends nothing", "[firewall][retry]") {
    FakeKernel kernel;
    const RetryResult result = run(kernel, {});
    CHECK(result.batches == 0);
    CHECK(result.outcomes.empty());
}

TEST_CASE("one bad element cannot block the rest", "[firewall][retry]") {
    FakeKernel kernel;
    kernel.per_message = 100;
    kernel.bad = {537};
    const RetryResult result = run(kernel, writes(ElementChangeKind::add, 1, 1000));
    CHECK(count(result, WriteOutcome::Status::applied) == 999);
    REQUIRE(count(result, WriteOutcome::Status::refused) == 1);
    CHECK(result.outcomes[536].status == WriteOutcome::Status::refused);
    CHECK(result.outcomes[536].error == EINVAL);
    CHECK(kernel.present.size() == 999);
    CHECK(kernel.present.count(537) == 0);
    // One full try, the innocent messages together, then halving 100 writes.
    CHECK(result.batches <= 2 + 2 * 7);
}

TEST_CASE("several bad elements are each pinned down", "[firewall][retry]") {
    FakeKernel kernel;
    kernel.per_message = 8;
    kernel.bad = {3, 4, 250, 999};
    const RetryResult result = run(kernel, writes(ElementChangeKind::add, 1, 1000));
    CHECK(count(result, WriteOutcome::Status::applied) == 996);
    CHECK(count(result, WriteOutcome::Status::refused) == 4);
    for (const std::uint32_t bad : kernel.bad)
        CHECK(result.outcomes[bad - 1].status == WriteOutcome::Status::refused);
    CHECK(result.batches < 60);
}

TEST_CASE("renewals and unbans of absent elements become robust writes", "[firewall][retry]") {
    FakeKernel kernel;
    kernel.present = {1, 2, 3};
    auto batch = writes(ElementChangeKind::add, 1, 10);             // 1..3 are there
    const auto removes = writes(ElementChangeKind::remove, 500, 5); // none is there
    batch.insert(batch.end(), removes.begin(), removes.end());
    const RetryResult result = run(kernel, batch);
    CHECK(result.batches == 2);
    CHECK(count(result, WriteOutcome::Status::applied) == 15);
    CHECK(kernel.present.size() == 10);
}

TEST_CASE("a broken socket stops the retry and says so", "[firewall][retry]") {
    FakeKernel kernel;
    kernel.bad = {7};
    kernel.break_at_batch = 2;
    const RetryResult result = run(kernel, writes(ElementChangeKind::add, 1, 100));
    REQUIRE(result.fault);
    CHECK(result.fault->error == ENOBUFS);
    CHECK(count(result, WriteOutcome::Status::applied) == 0);
    CHECK(count(result, WriteOutcome::Status::not_sent) == 100);
}

TEST_CASE("a refusal that blames no write is a fault", "[firewall][retry]") {
    const RetryResult result =
        send_with_retry(writes(ElementChangeKind::add, 1, 3), [](std::span<const ElementWrite> w) {
            BatchAttempt attempt;
            attempt.status = BatchAttempt::Status::refused;
            attempt.errors.assign(w.size(), 0);
            return attempt;
        });
    CHECK(result.fault);
    CHECK(result.batches == 1);
}
