#include "firewall/batch_retry.hpp"

#include <cerrno>

namespace exim_ban {
namespace {

bool refused_for_presence(const ElementWrite& write, int error) {
    return !write.robust && ((write.change.kind == ElementChangeKind::add && error == EEXIST) ||
                             (write.change.kind == ElementChangeKind::remove && error == ENOENT));
}

class Retrier {
  public:
    Retrier(std::vector<ElementWrite> writes, const BatchSender& send)
        : writes_(std::move(writes))
        , send_(send) {
        result_.outcomes.resize(writes_.size());
    }

    RetryResult run() {
        std::vector<std::size_t> all(writes_.size());
        for (std::size_t i = 0; i < all.size(); ++i)
            all[i] = i;
        if (!all.empty())
            attempt(all);
        return std::move(result_);
    }

  private:
    void attempt(const std::vector<std::size_t>& indices) {
        while (!result_.fault) {
            std::vector<ElementWrite> batch;
            batch.reserve(indices.size());
            for (const std::size_t i : indices)
                batch.push_back(writes_[i]);
            const BatchAttempt sent = send_(batch);
            ++result_.batches;

            if (sent.status == BatchAttempt::Status::applied) {
                for (const std::size_t i : indices)
                    result_.outcomes[i].status = WriteOutcome::Status::applied;
                return;
            }
            if (sent.status == BatchAttempt::Status::broken) {
                result_.fault = sent.fault;
                return;
            }

            // Presence refusals are expected (a ban renewed, an unban of an
            // expired element); they are fixed for all writes at once, and
            // only then is the batch split.
            bool converted = false;
            std::vector<std::size_t> innocent, suspect;
            for (std::size_t n = 0; n < indices.size(); ++n) {
                const int error = n < sent.errors.size() ? sent.errors[n] : 0;
                ElementWrite& write = writes_[indices[n]];
                if (error != 0 && refused_for_presence(write, error)) {
                    write.robust = true;
                    converted = true;
                }
                (error == 0 ? innocent : suspect).push_back(indices[n]);
                result_.outcomes[indices[n]].error = error;
            }
            if (converted)
                continue;

            if (suspect.empty()) {
                // A refusal that blames no write: nothing to split on.
                result_.fault =
                    FirewallFault{0, "the kernel refused a batch without naming a message"};
                return;
            }
            if (indices.size() == 1) {
                result_.outcomes[indices[0]].status = WriteOutcome::Status::refused;
                return;
            }
            // The writes of accepted messages were undone only because the
            // batch was: they go again together. The refused are split.
            if (!innocent.empty())
                attempt(innocent);
            split(suspect);
            return;
        }
    }

    void split(const std::vector<std::size_t>& suspect) {
        if (suspect.size() == 1) {
            // Alone in its refused message: the error was its own.
            result_.outcomes[suspect[0]].status = WriteOutcome::Status::refused;
            return;
        }
        const auto middle = suspect.begin() + static_cast<std::ptrdiff_t>(suspect.size() / 2);
        attempt(std::vector<std::size_t>(suspect.begin(), middle));
        attempt(std::vector<std::size_t>(middle, suspect.end()));
    }

    std::vector<ElementWrite> writes_;
    const BatchSender& send_;
    RetryResult result_;
};

} // namespace

RetryResult send_with_retry(std::vector<ElementWrite> writes, const BatchSender& send) {
    return Retrier(std::move(writes), send).run();
}

} // namespace exim_ban
