// The one exception exim-ban throws: a file it loads at start-up or reload
// (filter, pattern file, config, host list) is wrong. It names the place and
// says what to do, so that the admin sees it once and can fix it.
#pragma once

#include <stdexcept>
#include <string>

namespace exim_ban {

class LoadError : public std::runtime_error {
  public:
    // line 0 means "the file as a whole".
    LoadError(std::string file, int line, const std::string& message)
        : std::runtime_error(line > 0 ? file + ':' + std::to_string(line) + ": " + message
                                      : file + ": " + message)
        , file_(std::move(file))
        , line_(line) {}

    const std::string& file() const { return file_; }
    int line() const { return line_; }

  private:
    std::string file_;
    int line_;
};

} // namespace exim_ban
