// An AsideCommitter for tests of BanAdmin: it keeps each batch it takes,
// refuses one when the test says so, and lets the test look at the world
// at the moment of each commit (what the kernel held before it).
#pragma once

#include "pipeline/aside_committer.hpp"

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace exim_ban::testing {

class FakeAsideCommitter final : public AsideCommitter {
  public:
    // --- what the test controls ---
    // The next commit_aside() stores nothing and returns `error`.
    void refuse_next(std::string error) { refusal_ = std::move(error); }
    // Called with each batch as it is taken (not when refused).
    std::function<void(const Batch&)> on_commit;

    // --- what the test reads ---
    const std::vector<Batch>& batches() const { return batches_; }
    std::size_t refused() const { return refused_; }

    // --- AsideCommitter ---
    std::optional<std::string> commit_aside(Batch batch) override {
        if (refusal_) {
            ++refused_;
            return std::exchange(refusal_, std::nullopt);
        }
        if (on_commit)
            on_commit(batch);
        batches_.push_back(std::move(batch));
        return std::nullopt;
    }

  private:
    std::vector<Batch> batches_;
    std::optional<std::string> refusal_;
    std::size_t refused_ = 0;
};

} // namespace exim_ban::testing
