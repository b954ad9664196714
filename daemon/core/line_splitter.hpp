// Cuts a byte stream into lines. A line is the bytes up to '\n' (without
// it); one longer than max_line_bytes is delivered cut to that length,
// flagged, and the rest of it is skipped, so that no line can make memory
// grow. Bytes are not assumed to be text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace exim_ban {

inline constexpr std::size_t max_line_bytes = std::size_t{16} * 1024;

class LineSplitter {
  public:
    // Calls on_line(std::string_view line, bool cut) for every complete line
    // in `chunk`; an incomplete last line is kept for the next chunk.
    template <class OnLine>
    void feed(std::string_view chunk, OnLine&& on_line) {
        while (!chunk.empty()) {
            const void* found = std::memchr(chunk.data(), '\n', chunk.size());
            const std::size_t length =
                found ? static_cast<std::size_t>(static_cast<const char*>(found) - chunk.data())
                      : chunk.size();
            const std::size_t newline = found ? 1 : 0;
            const std::string_view piece = chunk.substr(0, length);
            // consumed_ moves before on_line runs, so that a reader of
            // consumed() inside on_line finds the line counted.
            if (skipping_) {
                // The tail of a line that was already delivered cut.
                consumed_ += length + newline;
            } else if (partial_.empty() && found && length <= max_line_bytes) {
                consumed_ += length + newline;
                on_line(piece, false);
            } else {
                const std::size_t room = max_line_bytes - partial_.size();
                partial_.append(piece.substr(0, room));
                if (piece.size() > room) {
                    consumed_ += partial_.size();
                    // Set before on_line: a reader that restarts from inside
                    // on_line must skip the rest of this line too.
                    skipping_ = true;
                    on_line(std::string_view(partial_), true);
                    partial_.clear();
                    consumed_ += piece.size() - room + newline;
                } else if (found) {
                    consumed_ += partial_.size() + newline;
                    on_line(std::string_view(partial_), false);
                    partial_.clear();
                }
            }
            if (!found)
                return;
            skipping_ = false;
            chunk.remove_prefix(length + 1);
        }
    }

    // Delivers an incomplete last line, as a reader at the end of a finished
    // file wants; a follower of a growing file does not call it.
    template <class OnLine>
    void finish(OnLine&& on_line) {
        if (!partial_.empty()) {
            consumed_ += partial_.size();
            on_line(std::string_view(partial_), false);
        }
        partial_.clear();
        skipping_ = false;
    }

    // Bytes of an incomplete line held back (not yet delivered).
    std::size_t pending_bytes() const { return partial_.size(); }

    // Bytes of the stream accounted for: every delivered line with its
    // '\n', and of a cut line the bytes up to the cut plus its rest as far
    // as it has been skipped. Inside on_line it already counts the line
    // being delivered. consumed() + pending_bytes() is all that was fed.
    std::uint64_t consumed() const { return consumed_; }

    // Whether the bytes fed next are the rest of a line delivered cut (true
    // inside on_line for a cut line).
    bool skipping_cut_line() const { return skipping_; }

    // Forgets any incomplete line and goes on as if the first `consumed`
    // bytes of the stream had been fed, in the state skipping_cut_line()
    // names: for a reader that seeks back to where consumed() stood.
    void restart(std::uint64_t consumed, bool skipping_cut_line = false) {
        partial_.clear();
        consumed_ = consumed;
        skipping_ = skipping_cut_line;
    }

  private:
    std::string partial_;
    bool skipping_ = false;
    std::uint64_t consumed_ = 0;
};

} // namespace exim_ban
