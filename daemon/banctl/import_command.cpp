#include "banctl/import_command.hpp"

#include "config/own_addresses.hpp"
#include "control/control_client.hpp"
#include "core/duration.hpp"
#include "core/load_error.hpp"
#include "filter/filter_loader.hpp"
#include "import/fail2ban_bans.hpp"
#include "import/fail2ban_database.hpp"
#include "import/fail2ban_jail.hpp"
#include "import/fail2ban_jail_files.hpp"
#include "import/overlay_files.hpp"
#include "import/state_file_owner.hpp"
#include "store/sqlite_store.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <iomanip>
#include <map>
#include <memory>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace exim_ban {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds reload_timeout{30'000};
// A running exim-band commits every few milliseconds; a locked database is
// tried again for this long.
constexpr int commit_attempts = 20;
constexpr milliseconds commit_retry_wait{100};
constexpr std::size_t dry_run_rows = 50;

// Why the import stops before it changes anything: printed, exit 1.
class ImportError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

std::string utc_text(std::int64_t seconds) {
    const std::time_t time = seconds;
    std::tm parts{};
    gmtime_r(&time, &parts);
    std::ostringstream text;
    text << std::put_time(&parts, "%Y-%m-%d %H:%M:%S UTC");
    return text.str();
}

std::string list_text(const std::vector<std::string>& names) {
    std::string text;
    for (const auto& name : names)
        text += (text.empty() ? "" : ", ") + name;
    return text.empty() ? "none" : text;
}

std::optional<std::string> filter_error(const std::filesystem::path& filters_dir,
                                        const FilterSpec& spec) {
    try {
        load_filter(spec, filters_dir, DiskTextFileReader{});
        return std::nullopt;
    } catch (const LoadError& error) {
        return error.what();
    }
}

std::string summary(const BanImport& bans, int ipv6_prefix, bool dry_run, double seconds) {
    std::ostringstream line;
    line << (dry_run ? "dry run, nothing changed: would have imported " : "imported ")
         << bans.current_v4 + bans.current_v6 << " current bans (" << bans.current_v4 << " IPv4, "
         << bans.current_v6 << " IPv6 /" << ipv6_prefix << "), " << bans.history
         << " history rows, skipped " << bans.skipped_total();
    if (!bans.skipped.empty()) {
        line << " (";
        for (const auto& [reason, count] : bans.skipped)
            line << (&reason == &bans.skipped.begin()->first ? "" : ", ") << count << ' ' << reason;
        line << ')';
    }
    line << " in " << std::fixed << std::setprecision(3) << seconds << " s";
    return line.str();
}

// The bans a dry run would load, one line per key: its number of earlier
// bans and its current ban.
void print_bans(std::ostream& out, const BanImport& bans, std::int64_t now) {
    struct Row {
        const StoredBan* current = nullptr;
        std::size_t earlier = 0;
    };
    std::map<BanKey, Row> rows;
    for (const auto& ban : bans.batch.bans) {
        Row& row = rows[ban.key];
        if (ban.expires > now)
            row.current = &ban;
        else
            ++row.earlier;
    }
    constexpr int key_width = 24;
    constexpr int count_width = 9;
    std::ostringstream table;
    table << std::left << std::setw(key_width) << "KEY" << std::setw(count_width) << "EARLIER"
          << "BANNED UNTIL\n";
    std::size_t printed = 0;
    for (const auto& [key, row] : rows) {
        if (printed++ == dry_run_rows) {
            table << "... and " << rows.size() - dry_run_rows << " more key(s)\n";
            break;
        }
        table << std::setw(key_width) << key.to_string() << std::setw(count_width) << row.earlier
              << (row.current == nullptr
                      ? std::string("-")
                      : utc_text(row.current->expires) + " (" +
                            format_duration(std::chrono::seconds{row.current->expires - now}) +
                            " left)")
              << '\n';
    }
    out << table.str();
}

// Written beside the final name and renamed over it once the bans are
// stored, so that a reader never sees half a file.
class PendingFile {
  public:
    PendingFile(const std::filesystem::path& path, const std::string& text)
        : path_(path)
        , temporary_(path.parent_path() / ("." + path.filename().string() + ".tmp")) {
        std::error_code error;
        std::filesystem::create_directories(path.parent_path(), error);
        const int fd = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
            throw ImportError("cannot write " + temporary_.string() + ": " + std::strerror(errno) +
                              " (run as root?)");
        const bool written =
            ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
        const int saved = errno;
        ::close(fd);
        if (!written) {
            discard();
            throw ImportError("cannot write " + temporary_.string() + ": " + std::strerror(saved));
        }
    }
    ~PendingFile() { discard(); }
    PendingFile(const PendingFile&) = delete;
    PendingFile& operator=(const PendingFile&) = delete;

    void commit() {
        std::error_code error;
        std::filesystem::rename(temporary_, path_, error);
        if (error)
            throw ImportError("cannot rename " + temporary_.string() + " to " + path_.string() +
                              ": " + error.message());
        committed_ = true;
    }

  private:
    void discard() {
        if (committed_)
            return;
        std::error_code ignored;
        std::filesystem::remove(temporary_, ignored);
    }

    std::filesystem::path path_;
    std::filesystem::path temporary_;
    bool committed_ = false;
};

void commit_bans(SqliteStore& store, const Batch& batch, const std::filesystem::path& database) {
    for (int attempt = 1;; ++attempt) {
        const auto failure = store.commit(batch);
        if (!failure)
            return;
        if (!failure->retry || attempt == commit_attempts)
            throw ImportError("database " + database.string() +
                              ": cannot store the bans: " + failure->message);
        std::this_thread::sleep_for(commit_retry_wait);
    }
}

class Import {
  public:
    Import(const ImportOptions& options, std::ostream& out, std::ostream& err)
        : options_(options)
        , out_(out)
        , err_(err)
        , now_(std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count()) {}

    int run() {
        const auto started = std::chrono::steady_clock::now();
        const Fail2banJailFiles jail_files = read_jail();
        const auto target_jail = exim_ban_jail_name(options_.jail);
        if (!target_jail)
            throw ImportError("fail2ban's jail [" + options_.jail +
                              "] cannot name an exim-ban jail ([a-z][a-z0-9_]{0,23}, '-' "
                              "becomes '_'); rename it in fail2ban's jail files");
        const Fail2banDatabase fail2ban = read_fail2ban_database(options_.database, options_.jail);
        if (std::find(fail2ban.jails.begin(), fail2ban.jails.end(), options_.jail) ==
            fail2ban.jails.end())
            warn("fail2ban's database has never run a jail [" + options_.jail +
                 "] (its jails: " + list_text(fail2ban.jails) + "); there are no bans to import");

        const std::filesystem::path conf_file =
            options_.config.parent_path() / "conf.d" / imported_conf_name;
        std::error_code missing;
        if (std::filesystem::exists(conf_file, missing) && !options_.force)
            throw ImportError(conf_file.string() +
                              " exists (an earlier import?); --force replaces it");

        const std::vector<IpPrefix> own = own_addresses();
        const DiskTextFileReader disk;
        const Config before = load("exim-ban's configuration does not load",
                                   OverlayFiles(disk, conf_file, std::nullopt), own);
        const JailImport settings =
            map_fail2ban_jail(jail_files.sections, options_.jail, target_of(before, *target_jail));
        const std::string text = import_conf_text(
            settings, *target_jail,
            {jail_files.files, std::filesystem::absolute(options_.database).string(), options_.jail,
             utc_text(now_)});
        const OverlayFiles after_files(disk, conf_file, text);
        const Config after = load(
            "with the imported settings exim-ban's configuration does not load", after_files, own);
        const JailConfig& jail = *after.jail(*target_jail);
        try {
            for (const auto& source : jail.sources)
                load_filter(source.filter, after.filters_dir, after_files);
        } catch (const LoadError& error) {
            throw ImportError(std::string("the filter of [") + jail.name +
                              "] does not load: " + error.what());
        }
        for (const auto& warning : settings.warnings)
            warn(warning);
        for (const auto& warning : after.warnings)
            warn(warning);
        if (!jail.enabled)
            warn("[" + jail.name +
                 "] is not enabled in exim-ban's configuration: its bans are stored and take "
                 "effect once it is");

        if (options_.dry_run)
            return dry_run(conf_file, text, fail2ban, after, jail, started);
        return import(conf_file, text, fail2ban, after, jail, started);
    }

  private:
    void warn(const std::string& message) { err_ << "exim-banctl: warning: " << message << '\n'; }

    Fail2banJailFiles read_jail() {
        Fail2banJailFiles files =
            read_fail2ban_jail_files(options_.jail_conf, DiskTextFileReader{});
        if (files.sections.has_section(options_.jail))
            return files;
        std::vector<std::string> jails;
        for (const auto& name : files.sections.section_names()) {
            if (name != "DEFAULT" && name != "INCLUDES" && name != "Definition" && name != "Init")
                jails.push_back(name);
        }
        throw ImportError("fail2ban's jail files (" + list_text(files.files) + ") have no jail [" +
                          options_.jail + "]; give --jail, one of: " + list_text(jails));
    }

    Config load(const std::string& failure, const TextFileReader& files,
                const std::vector<IpPrefix>& own) {
        try {
            return load_config(options_.config, files, own);
        } catch (const LoadError& error) {
            throw ImportError(failure + ": " + error.what());
        }
    }

    static ImportTarget target_of(const Config& config, const std::string& name) {
        ImportTarget target;
        target.jail = name;
        if (const JailConfig* jail = config.jail(name)) {
            target.ignoreip = config.origins.at(name).at("ignoreip").value;
            target.policy = jail->policy;
        }
        target.filter_error = [dir = config.filters_dir](const FilterSpec& spec) {
            return filter_error(dir, spec);
        };
        return target;
    }

    BanImport map_bans(const Fail2banDatabase& fail2ban, const JailConfig& jail,
                       SqliteStore* store) {
        return map_fail2ban_bans(
            fail2ban.bips, fail2ban.bans, jail, now_, [store](const BanKey& key) {
                if (store == nullptr)
                    return std::vector<StoredBan>{};
                auto stored = store->bans_of(key);
                // The command's one error path: a message and exit status 1.
                if (!stored)
                    throw ImportError("database: cannot read exim-ban's bans: " +
                                      stored.failure().message);
                return std::move(stored).value();
            });
    }

    static double since(std::chrono::steady_clock::time_point started) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    }

    int dry_run(const std::filesystem::path& conf_file, const std::string& text,
                const Fail2banDatabase& fail2ban, const Config& config, const JailConfig& jail,
                std::chrono::steady_clock::time_point started) {
        // What was imported before counts, but a database that does not
        // exist yet is not created for a dry run.
        std::unique_ptr<SqliteStore> store;
        std::error_code missing;
        if (std::filesystem::exists(config.database, missing))
            store = open_store(config.database);
        const BanImport bans = map_bans(fail2ban, jail, store.get());
        out_ << "--- " << conf_file.string() << " (would be written)\n"
             << text << "--- bans of [" << jail.name << "] that would be stored in "
             << config.database.string() << '\n';
        print_bans(out_, bans, now_);
        out_ << "--- then exim-band would be asked to reload (" << config.socket.string()
             << "), if it runs\n"
             << summary(bans, jail.policy.ipv6_prefix, true, since(started)) << '\n';
        return 0;
    }

    int import(const std::filesystem::path& conf_file, const std::string& text,
               const Fail2banDatabase& fail2ban, const Config& config, const JailConfig& jail,
               std::chrono::steady_clock::time_point started) {
        // Written first, renamed last: a directory that refuses the file
        // stops the import before the database changes.
        PendingFile pending(conf_file, text);
        std::error_code ignored;
        std::filesystem::create_directories(config.database.parent_path(), ignored);
        const std::unique_ptr<SqliteStore> store = open_store(config.database);
        const BanImport bans = map_bans(fail2ban, jail, store.get());
        if (!bans.batch.empty())
            commit_bans(*store, bans.batch, config.database);
        for (const auto& failure : hand_database_to_directory_owner(config.database))
            err_ << "exim-banctl: warning: cannot give " << failure
                 << " to the owner of its directory; exim-band may not be able to write it\n";
        pending.commit();
        out_ << "wrote " << conf_file.string() << "\nstored " << bans.batch.bans.size()
             << " ban row(s) of [" << jail.name << "] in " << config.database.string() << '\n';
        const int status = reload(config.socket);
        out_ << summary(bans, jail.policy.ipv6_prefix, false, since(started)) << '\n';
        return status;
    }

    static std::unique_ptr<SqliteStore> open_store(const std::filesystem::path& database) {
        try {
            return std::make_unique<SqliteStore>(database, SqliteStore::Writer::bans_only);
        } catch (const StoreOpenError& error) {
            throw ImportError(error.what());
        }
    }

    // reload restores the bans from the store and reconciles the kernel
    // with them.
    int reload(const std::filesystem::path& socket) {
        try {
            const auto reply = control_call(socket, {{"cmd", "reload"}}, reload_timeout);
            if (reply.value("ok", false)) {
                out_ << "exim-band reloaded: it applies the bans now\n";
                return 0;
            }
            err_ << "exim-banctl: exim-band refused to reload: " << reply.value("error", "refused")
                 << "; the import is stored, run exim-banctl reload\n";
        } catch (const ControlUnreachable& error) {
            out_ << "exim-band is not running (" << error.what()
                 << "): the bans take effect when it starts\n";
            return 0;
        } catch (const std::runtime_error& error) {
            err_ << "exim-banctl: cannot ask exim-band to reload: " << error.what()
                 << "; the import is stored, run exim-banctl reload as root\n";
        }
        return 1;
    }

    const ImportOptions& options_;
    std::ostream& out_;
    std::ostream& err_;
    std::int64_t now_;
};

} // namespace

int run_import_fail2ban(const ImportOptions& options, std::ostream& out, std::ostream& err) {
    try {
        return Import(options, out, err).run();
    } catch (const std::exception& error) {
        // ImportError, Fail2banDatabaseError, LoadError, a store that cannot
        // be read: each message says what and where.
        err << "exim-banctl: " << error.what() << '\n';
    }
    return 1;
}

} // namespace exim_ban
