// Cuts a byte stream into lines. A line is the bytes up to '\n' (without
// it); one longer than max_line_bytes is delivered cut to that length,
// flagged, and the rest of it is skipped, so that no line can make memory
// grow. Bytes are not assumed to be text.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace exim_ban {

inline constexpr std::size_t max_line_bytes = 16 * 1024;

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
            const std::string_view piece = chunk.substr(0, length);
            if (skipping_) {
                // The tail of a line that was already delivered cut.
            } else if (partial_.empty() && found && length <= max_line_bytes) {
                on_line(piece, false);
            } else {
                const std::size_t room = max_line_bytes - partial_.size();
                partial_.append(piece.substr(0, room));
                if (piece.size() > room) {
                    on_line(std::string_view(partial_), true);
                    partial_.clear();
                    skipping_ = true;
                } else if (found) {
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
        if (!partial_.empty())
            on_line(std::string_view(partial_), false);
        partial_.clear();
        skipping_ = false;
    }

    // Bytes of an incomplete line held back (not yet delivered).
    std::size_t pending_bytes() const { return partial_.size(); }

  private:
    std::string partial_;
    bool skipping_ = false;
};

} // namespace exim_ban
