// exim-band as a running service (see README.md).
#pragma once

#include <filesystem>
#include <memory>
#include <stdexcept>

namespace exim_ban {

struct BandOptions {
    std::filesystem::path config;
    bool dry_run = false;    // log what the firewall would do, touch nothing
    bool rebuild_db = false; // a damaged database is moved aside and made anew
    // Journal jails read the journal files in this directory instead of the
    // system journal (tests, and containers whose journal is not the host's).
    std::filesystem::path journal_directory;
};

// A start-up failure: what is wrong and what to do, said once.
class StartupError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class BandService {
  public:
    // Loads and checks the config and its filters, opens the store, sets the
    // firewall up. Throws StartupError.
    explicit BandService(const BandOptions& options);
    ~BandService();
    BandService(const BandService&) = delete;
    BandService& operator=(const BandService&) = delete;

    // Reconciles the firewall with the store, follows the logs and serves
    // signals until SIGTERM or SIGINT. Returns the exit code.
    int run();

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

// Loads the config and every enabled jail's filter as start-up would, and
// returns a one-line summary. Throws StartupError. For `exim-band --check`.
std::string check_band_config(const std::filesystem::path& config);

} // namespace exim_ban
