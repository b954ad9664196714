#include "band/band_service.hpp"

#include "band/band_control.hpp"
#include "band/log_lag.hpp"
#include "band/store_opening.hpp"
#include "band/systemd_notifier.hpp"
#include "band/threaded_ban_listing.hpp"
#include "config/config_loader.hpp"
#include "config/journal_jail.hpp"
#include "config/log_paths.hpp"
#include "config/own_addresses.hpp"
#include "control/control_server.hpp"
#include "core/load_error.hpp"
#include "export/trust_file.hpp"
#include "filter/filter_loader.hpp"
#include "firewall/dry_run_firewall.hpp"
#include "firewall/firewall_jail.hpp"
#include "firewall/firewall_setup_error.hpp"
#include "firewall/nftables_firewall.hpp"
#include "journal/journal_source.hpp"
#include "journal/journal_start.hpp"
#include "journal/sd_journal_reader.hpp"
#include "loop/asio_wake_timer.hpp"
#include "loop/log_clock.hpp"
#include "loop/periodic_task.hpp"
#include "pipeline/ban_pipeline.hpp"
#include "pipeline/knock_watch.hpp"
#include "store/sqlite_store.hpp"
#include "tail/log_source_group.hpp"
#include "tail/tailer.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <ctime>
#include <spdlog/spdlog.h>
#include <string>
#include <variant>

namespace exim_ban {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr std::chrono::seconds checkpoint_every{60};
// How long bans lost from the kernel without an error of ours (a set
// flushed by hand, nftables.service flushing the ruleset) stay lost at
// most; an audit reads the store's active bans and the sets.
constexpr std::chrono::seconds firewall_audit_every{30};
constexpr std::chrono::seconds purge_every{3600};
// How soon trust_file follows a login, a ban or trust running out.
constexpr std::chrono::seconds trust_export_every{1};

std::int64_t current_log_ms() {
    return log_ms_at(std::chrono::system_clock::now());
}

// What a step of start-up or reload made, or the problem that stopped it,
// said for the admin: start-up stops with it, a reload is refused with it.
template <typename T>
using OrProblem = std::variant<T, std::string>;

// Start-up's boundary: a problem stops the daemon, said once.
template <typename T>
T required_at_startup(OrProblem<T> made) {
    if (const auto* problem = std::get_if<std::string>(&made))
        throw StartupError(*problem);
    return std::get<T>(std::move(made));
}

OrProblem<Config> load_band_config(const std::filesystem::path& file) {
    // The config file's load boundary: its LoadError is caught here, at the
    // call that loads it.
    try {
        Config config = load_config(file, DiskTextFileReader{}, own_addresses());
        for (const auto& warning : config.warnings)
            spdlog::warn("config: {}", warning);
        return config;
    } catch (const LoadError& error) {
        return std::string(error.what());
    }
}

std::vector<FirewallJail> firewall_jails(const Config& config) {
    std::vector<FirewallJail> jails;
    for (const auto& jail : config.jails) {
        if (jail.enabled)
            jails.push_back({jail.name, jail.ports,
                             jail.blocktype == BlockType::reject ? Verdict::reject : Verdict::drop,
                             jail.policy.ipv6_prefix});
    }
    return jails;
}

// The parts of a configuration that a reload replaces together: loaded
// before anything is swapped, so that a bad new configuration changes nothing.
struct LoadedJails {
    std::vector<const JailConfig*> configs;
    std::vector<std::vector<LoadedFilter>> filters; // per jail, per source
    std::vector<std::string> paths;
    std::vector<JournalMatch> journals; // each distinct journal match once
    // Per path, then per journal match (log paths.size() + j): the jails'
    // sources reading it.
    std::vector<std::vector<SourceRoute>> routes;
    std::chrono::seconds rotation_grace{0};
};

// Adds `source` to the route of `log`, a new one at `logs.size()` when `log`
// is not among `logs` yet.
template <typename Log>
void route(std::vector<Log>& logs, std::vector<std::vector<SourceRoute>>& routes,
           std::size_t first_route, const Log& log, SourceRoute source) {
    auto found = std::find(logs.begin(), logs.end(), log);
    if (found == logs.end()) {
        logs.push_back(log);
        routes.emplace_back();
        found = logs.end() - 1;
    }
    auto& readers = routes[first_route + static_cast<std::size_t>(found - logs.begin())];
    if (std::find(readers.begin(), readers.end(), source) == readers.end())
        readers.push_back(source);
}

OrProblem<LoadedJails> load_jails(const Config& config) {
    LoadedJails loaded;
    loaded.rotation_grace = config.rotation_grace;
    for (const auto& jail : config.jails) {
        if (!jail.enabled)
            continue;
        const std::size_t index = loaded.configs.size();
        loaded.configs.push_back(&jail);
        auto& filters = loaded.filters.emplace_back();
        for (const auto& source : jail.sources) {
            // The filter file's load boundary, as for the config.
            try {
                filters.push_back(
                    load_filter(source.filter, config.filters_dir, DiskTextFileReader{}));
            } catch (const LoadError& error) {
                return "[" + source.section + "]: " + error.what();
            }
            for (const auto& warning : filters.back().warnings)
                spdlog::warn("[{}]: {}", source.section, warning);
            const ExpandedLogPaths expanded = expand_log_paths(source.logpaths);
            for (const auto& warning : expanded.warnings)
                spdlog::warn("[{}]: {}", source.section, warning);
            for (const auto& path : expanded.paths)
                route(loaded.paths, loaded.routes, 0, path, {index, filters.size() - 1});
        }
    }
    // The journal's routes follow the files': its sources' log indices come
    // after the Tailer's (see tail/log_source_group.hpp).
    std::vector<std::string> journal_names;
    for (std::size_t jail = 0; jail < loaded.configs.size(); ++jail) {
        const auto& sources = loaded.configs[jail]->sources;
        for (std::size_t source = 0; source < sources.size(); ++source) {
            const JailJournalMatch journal =
                journal_match_of(config, sources[source], loaded.filters[jail][source]);
            if (!journal.error.empty())
                return journal.error;
            if (!journal.match)
                continue;
            const std::size_t before = journal_names.size();
            route(journal_names, loaded.routes, loaded.paths.size(),
                  journal_source_name(journal.match->text()), {jail, source});
            if (journal_names.size() > before)
                loaded.journals.push_back(*journal.match);
        }
    }
    if (loaded.configs.empty())
        return config.file.string() + ": no jail is enabled; set `enabled = true` in one";
    if (const auto problem = jails_problem(firewall_jails(config)))
        return config.file.string() + ": " + *problem;
    return loaded;
}

} // namespace

// One configuration at work: its jails' pipeline and the sources feeding
// it, the tailer's files then the journal's matches.
struct Generation {
    std::vector<std::string> paths;
    std::unique_ptr<BanPipeline> pipeline;
    std::unique_ptr<Tailer> tailer;
    std::vector<std::unique_ptr<JournalSource>> journals;
    LogSourceGroup sources;

    void start() {
        tailer->start();
        for (auto& journal : journals)
            journal->start();
    }
    void stop() {
        tailer->stop();
        for (auto& journal : journals)
            journal->stop();
    }
    std::size_t logs() const { return paths.size() + journals.size(); }
};

class BandService::Impl final : public BandReadings, public BandSteering {
  public:
    explicit Impl(const BandOptions& options)
        : options_(options)
        , config_(required_at_startup(load_band_config(options.config)))
        , wake_timer_(io_,
                      [this] {
                          if (generation_)
                              generation_->pipeline->on_wake();
                      })
        , signals_(io_, SIGTERM, SIGINT, SIGHUP) {
        const LoadedJails jails = required_at_startup(load_jails(config_));
        store_ = open_band_store(config_.database, options.rebuild_db, std::time(nullptr));
        try {
            if (options.dry_run)
                firewall_ = std::make_unique<DryRunFirewall>();
            else
                firewall_ = std::make_unique<NftablesFirewall>();
            firewall_->setup(firewall_jails(config_));
            // `list` reads the kernel on a thread of its own, through a
            // netlink socket of its own; the dry run's is in memory.
            ban_listing_ = std::make_unique<ThreadedBanListing>(
                io_, config_.database, *firewall_,
                options.dry_run ? nullptr : std::make_unique<NftablesFirewall>());
        } catch (const FirewallSetupError& error) {
            throw StartupError(std::string("firewall: ") + error.what());
        }
        control_ = std::make_unique<BandControl>(*this, *this, *store_, *ban_listing_);
        generation_ = required_at_startup(build(jails));
        try {
            control_server_ = std::make_unique<ControlServer>(
                io_, ControlServerOptions{config_.socket, config_.control_group}, *control_);
        } catch (const std::runtime_error& error) {
            throw StartupError(std::string("control socket: ") + error.what());
        }
    }

    // BandReadings and BandSteering, for the control socket's commands.
    std::chrono::seconds uptime() override {
        return std::chrono::duration_cast<std::chrono::seconds>(steady_clock::now() - started_);
    }
    const std::vector<std::unique_ptr<JailRuntime>>& jails() override {
        return generation_->pipeline->jails();
    }
    const PipelineStats& pipeline_stats() override { return generation_->pipeline->stats(); }
    std::vector<FollowedLog> logs() override {
        std::vector<FollowedLog> logs;
        for (auto& position : generation_->sources.positions()) {
            // A journal source has no file to measure.
            const bool journal = position.path.starts_with(journal_source_name(""));
            const auto lag = journal ? std::nullopt : log_lag(position);
            logs.push_back({std::move(position), lag});
        }
        return logs;
    }
    TailStats tail_stats() override {
        TailStats stats = tail_before_reloads_;
        stats += generation_->tailer->stats();
        return stats;
    }
    ControlServerStats control_stats() override { return control_server_->stats(); }
    std::optional<DnsblExportStats> dnsbl_stats() override {
        if (!dnsbl_)
            return std::nullopt;
        return dnsbl_->stats();
    }
    std::int64_t log_now_ms() override { return current_log_ms(); }
    std::optional<std::string> ban(std::size_t jail, const BanKey& key,
                                   std::chrono::seconds length) override {
        return generation_->pipeline->manual_ban(jail, key, length);
    }
    std::optional<std::string> forget_trust(const IpAddress& address) override {
        if (auto error = generation_->pipeline->forget_trust(address))
            return error;
        export_trust();
        return std::nullopt;
    }
    std::optional<std::string> unban(const std::vector<BanKey>& keys, std::size_t jail) override {
        return generation_->pipeline->manual_unban(keys, jail);
    }
    std::optional<std::string> flush() override {
        if (!generation_->pipeline->flush())
            return std::string("the database does not take commits now (see the daemon's log)");
        if (const auto failure = store_->checkpoint_counts())
            return "database: " + failure->message;
        return std::nullopt;
    }

    int run() {
        generation_->pipeline->request_reconcile();
        start_dnsbl();
        start_trust_file();
        generation_->start();
        wait_for_signal();
        housekeeping_.start();
        trust_export_.start();
        knock_watch_.start();
        firewall_audit_.start();
        if (const auto interval = notifier_.watchdog_interval()) {
            watchdog_.emplace(io_, *interval, [this] { notifier_.watchdog(); });
            watchdog_->start();
        }
        spdlog::info("started: {} jail(s), {} log(s){}", generation_->pipeline->jails().size(),
                     generation_->logs(), options_.dry_run ? ", dry run" : "");
        notifier_.ready(status_line());
        io_.run();
        return exit_code_;
    }

  private:
    // Fails when the store cannot read the state back or the logs cannot
    // be followed.
    OrProblem<std::unique_ptr<Generation>> build(const LoadedJails& loaded) {
        auto generation = std::make_unique<Generation>();
        std::vector<std::unique_ptr<JailRuntime>> jails;
        for (std::size_t i = 0; i < loaded.configs.size(); ++i) {
            jails.push_back(std::make_unique<JailRuntime>(*loaded.configs[i], loaded.filters[i]));
            const auto restored = jails.back()->restore(*store_);
            if (!restored)
                return state_unread(restored.failure());
            spdlog::info("jail [{}]: {} key(s) and {} recent hit(s) restored from the store",
                         jails.back()->name, restored->keys, restored->hits);
            const auto trusted = jails.back()->restore_trust(*store_, current_log_ms() / 1000);
            if (!trusted)
                return state_unread(trusted.failure());
            if (trusted.value() > 0)
                spdlog::info("jail [{}]: {} trusted login(s) restored from the store",
                             jails.back()->name, trusted.value());
        }
        auto offsets = store_->file_offsets();
        if (!offsets)
            return state_unread(offsets.failure());
        generation->paths = loaded.paths;
        generation->pipeline = std::make_unique<BanPipeline>(
            std::move(jails), loaded.routes, *store_, *firewall_, wake_timer_,
            PipelineClock{current_log_ms, [] { return steady_clock::now(); }});
        TailerOpening opened = Tailer::open(io_, loaded.paths, offsets.value(),
                                            *generation->pipeline, loaded.rotation_grace);
        if (!opened.tailer)
            return "tail: cannot follow the logs: " + opened.error;
        generation->tailer = std::move(opened.tailer);
        generation->sources.add(*generation->tailer);
        for (const JournalMatch& match : loaded.journals) {
            SdJournalOpening reader = SdJournalReader::open(match, options_.journal_directory);
            if (!reader.reader)
                return "journal: " + reader.error;
            std::string name = journal_source_name(match.text());
            const JournalStart start = journal_start(name, offsets.value());
            if (!start.inherited.empty())
                spdlog::info("{}: a new journal match; reading on after {}'s cursor, where the "
                             "journal was read to",
                             name, start.inherited);
            LogPosition resume;
            resume.cursor = start.cursor;
            generation->journals.push_back(
                std::make_unique<JournalSource>(io_, std::move(reader.reader), generation->logs(),
                                                std::move(name), resume, *generation->pipeline));
            generation->sources.add(*generation->journals.back());
        }
        generation->pipeline->attach(generation->sources);
        generation->pipeline->on_bans_changed([this] {
            if (dnsbl_)
                dnsbl_->bans_changed();
        });
        return generation;
    }

    std::string state_unread(const StoreFailure& failure) const {
        return "database " + config_.database.string() +
               ": cannot read the state back: " + failure.message;
    }

    void wait_for_signal() {
        signals_.async_wait([this](const boost::system::error_code& error, int signal) {
            if (error)
                return;
            if (signal == SIGHUP) {
                reload();
                wait_for_signal();
            } else {
                stop(signal);
            }
        });
    }

    std::optional<std::string> reload() override {
        notifier_.reloading();
        spdlog::info("reload: reading {}", options_.config.string());
        auto refused = replace_generation();
        if (refused)
            spdlog::error("reload refused, the running configuration stays: {}", *refused);
        else
            spdlog::info("reload: done, {} jail(s), {} log(s)",
                         generation_->pipeline->jails().size(), generation_->logs());
        notifier_.ready(status_line());
        return refused;
    }

    // Builds the new configuration's generation beside the running one and
    // swaps it in; returns why it could not, and then nothing has changed.
    std::optional<std::string> replace_generation() {
        auto next = load_band_config(options_.config);
        if (const auto* problem = std::get_if<std::string>(&next))
            return *problem;
        const auto jails = load_jails(std::get<Config>(next));
        if (const auto* problem = std::get_if<std::string>(&jails))
            return *problem;
        if (!generation_->pipeline->flush())
            return std::string("the store does not take the current batch; try again later");
        // Built from the store, which now holds everything read: the new
        // trackers start where the old ones are.
        auto built = build(std::get<LoadedJails>(jails));
        if (const auto* problem = std::get_if<std::string>(&built))
            return *problem;
        // Setting the firewall up is loading the configuration into the
        // kernel: its one exception, at this boundary.
        try {
            firewall_->setup(firewall_jails(std::get<Config>(next)));
        } catch (const FirewallSetupError& error) {
            return std::string(error.what());
        }
        auto next_generation = std::get<std::unique_ptr<Generation>>(std::move(built));
        generation_->stop();
        next_generation->pipeline->carry_over(*generation_->pipeline);
        tail_before_reloads_ += generation_->tailer->stats();
        config_ = std::get<Config>(std::move(next));
        generation_ = std::move(next_generation);
        generation_->pipeline->request_reconcile();
        start_dnsbl();
        start_trust_file();
        generation_->start();
        return std::nullopt;
    }

    void stop(int signal) {
        notifier_.stopping();
        spdlog::info("stopping on {}", signal == SIGTERM ? "SIGTERM" : "SIGINT");
        control_server_->stop();
        generation_->stop();
        if (!generation_->pipeline->flush())
            spdlog::warn("the last batch was not committed; its lines are read again at the "
                         "next start");
        if (const auto failure = store_->checkpoint_counts())
            spdlog::warn("store: lifetime counts not checkpointed ({}); the next start folds "
                         "them in",
                         failure->message);
        wake_timer_.cancel();
        housekeeping_.cancel();
        knock_watch_.cancel();
        firewall_audit_.cancel();
        trust_export_.cancel();
        if (dnsbl_timer_)
            dnsbl_timer_->cancel();
        if (watchdog_)
            watchdog_->cancel();
        signals_.cancel();
        io_.stop();
    }

    void housekeep() {
        if (const auto failure = store_->checkpoint_counts())
            spdlog::warn("store: lifetime counts not checkpointed: {}", failure->message);
        if (steady_clock::now() < next_purge_)
            return;
        next_purge_ = steady_clock::now() + purge_every;
        std::chrono::seconds keep = config_.dbpurgeage;
        for (const auto& jail : generation_->pipeline->jails())
            keep = std::max(keep, jail->policy().findtime);
        if (const auto failure = store_->purge_hits(current_log_ms() / 1000 - keep.count()))
            spdlog::warn("store: old hits not purged: {}", failure->message);
    }

    // The zone follows the configuration: made, moved or dropped on reload.
    void start_dnsbl() {
        dnsbl_.reset();
        dnsbl_timer_.reset(); // with its wake-up
        if (config_.dnsbl_zone.empty())
            return;
        dnsbl_timer_ = std::make_unique<AsioWakeTimer>(io_, [this] { dnsbl_->on_wake(); });
        dnsbl_ = std::make_unique<DnsblExport>(
            *dnsbl_timer_, [] { return steady_clock::now(); }, config_.dnsbl_zone,
            config_.dnsbl_interval,
            [this]() -> ActiveBansRead {
                const auto active = store_->active_bans(current_log_ms() / 1000);
                if (!active)
                    return active.failure().message;
                std::vector<ZoneEntry> entries;
                for (const auto& ban : active.value())
                    entries.push_back({ban.key, ban.expires});
                return entries;
            },
            [] { return current_log_ms() / 1000; });
        dnsbl_->write_now();
    }

    // The trust file follows the configuration, as the zone does.
    void start_trust_file() {
        trust_file_.reset();
        if (config_.trust_file.empty())
            return;
        trust_file_.emplace(config_.trust_file);
        export_trust();
    }

    void export_trust() {
        if (!trust_file_)
            return;
        const std::int64_t now = current_log_ms() / 1000;
        std::vector<BanKey> keys;
        for (const auto& jail : generation_->pipeline->jails())
            for (const TrustEntry& entry : jail->trusted(now))
                keys.push_back(entry.key);
        const auto failure = trust_file_->update(std::move(keys));
        if (failure && !trust_file_failing_)
            spdlog::warn("trust_file: {}; tried again every second", *failure);
        else if (!failure && trust_file_failing_)
            spdlog::info("trust_file: written again");
        trust_file_failing_ = failure.has_value();
    }

    std::string status_line() const {
        const PipelineStats& stats = generation_->pipeline->stats();
        return std::to_string(generation_->pipeline->jails().size()) + " jail(s), " +
               std::to_string(stats.lines) + " lines, " + std::to_string(stats.bans) + " bans";
    }

    BandOptions options_;
    Config config_;
    boost::asio::io_context io_;
    AsioWakeTimer wake_timer_;
    boost::asio::signal_set signals_;
    PeriodicTask housekeeping_{io_, checkpoint_every, [this] { housekeep(); }};
    PeriodicTask knock_watch_{io_, knock_check_interval,
                              [this] { generation_->pipeline->renew_knocking(knock_horizon); }};
    PeriodicTask firewall_audit_{io_, firewall_audit_every,
                                 [this] { generation_->pipeline->audit_firewall(); }};
    PeriodicTask trust_export_{io_, trust_export_every, [this] { export_trust(); }};
    std::optional<TrustFile> trust_file_;
    bool trust_file_failing_ = false;
    std::optional<PeriodicTask> watchdog_; // when systemd asks for one
    SystemdNotifier notifier_;
    std::unique_ptr<SqliteStore> store_;
    std::unique_ptr<Firewall> firewall_;
    std::unique_ptr<Generation> generation_;
    // Before the control server, which hands them requests; after io_,
    // to which the listing posts its replies.
    std::unique_ptr<ThreadedBanListing> ban_listing_;
    std::unique_ptr<BandControl> control_;
    std::unique_ptr<ControlServer> control_server_;
    std::unique_ptr<AsioWakeTimer> dnsbl_timer_; // calls dnsbl_ back: made with it, gone after it
    std::unique_ptr<DnsblExport> dnsbl_;
    const steady_clock::time_point started_ = steady_clock::now();
    steady_clock::time_point next_purge_ = started_ + purge_every;
    TailStats tail_before_reloads_;
    int exit_code_ = 0;
};

BandService::BandService(const BandOptions& options)
    : impl_(std::make_unique<Impl>(options)) {}

BandService::~BandService() = default;

int BandService::run() {
    return impl_->run();
}

std::string check_band_config(const std::filesystem::path& file) {
    const Config config = required_at_startup(load_band_config(file));
    const LoadedJails jails = required_at_startup(load_jails(config));
    std::string names;
    for (const JailConfig* jail : jails.configs)
        names += (names.empty() ? "" : ", ") + jail->name;
    return file.string() + ": OK, " + std::to_string(jails.configs.size()) + " jail(s) (" + names +
           "), " + std::to_string(jails.paths.size() + jails.journals.size()) + " log(s)";
}

} // namespace exim_ban
