// A TailSink for tests of log sources: every line received, with its log
// index and cut flag, and how often the source said it was caught up.
#pragma once

#include "tail/tail_sink.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace exim_ban::testing {

struct Received {
    std::size_t log = 0;
    std::string line;
    bool cut = false;
};

class RecordingSink : public TailSink {
  public:
    void on_line(std::size_t log, std::string_view line, bool cut) override {
        received.push_back({log, std::string(line), cut});
        idle = false;
        if (after_line)
            after_line(received.back());
    }
    void on_caught_up() override {
        ++caught_up;
        idle = true;
    }

    std::vector<std::string> lines_of(std::size_t log) const {
        std::vector<std::string> lines;
        for (const auto& got : received)
            if (got.log == log)
                lines.push_back(got.line);
        return lines;
    }

    std::vector<Received> received;
    std::size_t caught_up = 0;
    bool idle = false; // on_caught_up came after the last line
    std::function<void(const Received&)> after_line;
};

} // namespace exim_ban::testing
