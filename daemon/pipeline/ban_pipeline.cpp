#include "pipeline/ban_pipeline.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace exim_ban {
namespace {

std::vector<std::string> names_of(const std::vector<std::unique_ptr<JailRuntime>>& jails) {
    std::vector<std::string> names;
    names.reserve(jails.size());
    for (const auto& jail : jails)
        names.push_back(jail->name);
    return names;
}

std::vector<std::vector<LogReader>>
readers_for(const std::vector<std::vector<SourceRoute>>& routes,
            const std::vector<std::unique_ptr<JailRuntime>>& jails, const PipelineClock& clock) {
    std::vector<std::vector<LogReader>> readers(routes.size());
    for (std::size_t log = 0; log < routes.size(); ++log) {
        for (const SourceRoute& route : routes[log]) {
            const LogFormat format = jails[route.jail]->log_format(route.source);
            if (std::none_of(readers[log].begin(), readers[log].end(),
                             [format](const LogReader& r) { return r.format() == format; }))
                readers[log].emplace_back(format, [&clock] { return clock.log_now_ms() / 1000; });
        }
    }
    return readers;
}

} // namespace

BanPipeline::BanPipeline(std::vector<std::unique_ptr<JailRuntime>> jails,
                         std::vector<std::vector<SourceRoute>> routes, Store& store,
                         Firewall& firewall, WakeTimer& timer, PipelineClock clock,
                         PipelineLimits limits)
    : jails_(std::move(jails))
    , routes_(std::move(routes))
    , clock_(std::move(clock))
    , readers_(readers_for(routes_, jails_, clock_))
    , health_(store, firewall, timer, clock_, names_of(jails_), stats_)
    , batcher_(store, firewall, health_, timer, clock_, limits, stats_,
               [this] { announce_bans_changed(); })
    , admin_(jails_, batcher_, firewall, health_, clock_, stats_,
             [this] { announce_bans_changed(); }) {}

BanPipeline::~BanPipeline() = default;

void BanPipeline::on_line(std::size_t log, std::string_view line, bool cut) {
    ++stats_.lines;
    if (cut)
        ++stats_.cut_lines;
    batcher_.add_line();
    // A cut line ends in client text, not Exim's (see count_line): no hit.
    // A shared log's line is another format's: untimed only when no
    // reader takes it.
    bool untimed = !cut && log < readers_.size() && !readers_[log].empty();
    for (std::size_t r = 0; !cut && log < readers_.size() && r < readers_[log].size(); ++r) {
        LogReader& reader = readers_[log][r];
        const LogRead read = reader.read(line);
        untimed = untimed && read.kind == LogRead::Kind::untimed;
        stats_.dropped_parts += read.dropped_parts;
        if (read.kind == LogRead::Kind::entry) {
            for (const SourceRoute& route : routes_[log]) {
                JailRuntime& jail = *jails_[route.jail];
                if (jail.log_format(route.source) != reader.format())
                    continue;
                const LineMatch match = jail.match(route.source, read.entry.message);
                if (match.kind == LineMatch::Kind::none)
                    note_success(jail, route.source, read.entry.message,
                                 read.entry.time.wall_seconds);
                if (match.kind != LineMatch::Kind::hit)
                    continue;
                const std::uint32_t attempts =
                    note_attempts(jail, route.source, match, read.entry.time.wall_seconds);
                for (std::uint32_t n = attempts; n > 0; --n)
                    judge_hit(jail, match, read.entry.time.wall_seconds);
            }
        }
    }
    if (untimed)
        ++stats_.untimed_lines;
    batcher_.line_done();
}

std::uint32_t BanPipeline::note_attempts(JailRuntime& jail, std::size_t source,
                                         const LineMatch& match, std::int64_t time) {
    if (match.session.empty())
        return jail.attempts_of(source, match);
    // The store keeps a session open while its summary is to come; a summary
    // of a session it never kept changes nothing there.
    const bool kept = jail.session_counted(source, match.session) > 0;
    const std::uint32_t attempts = jail.attempts_of(source, match);
    const std::uint32_t counted = jail.session_counted(source, match.session);
    if (kept || counted > 0)
        batcher_.add_session({jail.name, std::string(match.session), counted, time});
    return attempts;
}

void BanPipeline::judge_hit(JailRuntime& jail, const LineMatch& match, std::int64_t time) {
    const std::int64_t now = clock_.log_now_ms() / 1000;
    const JailJudge::Outcome outcome = jail.judge(match.host, time, now, match.account);
    switch (outcome.verdict) {
    case JailJudge::Verdict::ignored:
        ++stats_.ignored_hosts;
        return;
    case JailJudge::Verdict::excused:
        ++stats_.excused;
        batcher_.add_mistake({jail.name, outcome.key, time});
        return;
    case JailJudge::Verdict::protected_:
        ++stats_.withheld_bans;
        spdlog::warn("{}: no ban of {}: it would cover an ignored address", jail.name,
                     outcome.key.to_string());
        break;
    case JailJudge::Verdict::banned: {
        const BanDecision& ban = *outcome.ban;
        batcher_.add_ban({jail.name, ban.key, ban.start, ban.start + ban.duration.count(),
                          ban_reason_name(ban.reason), "log"},
                         {&jail, ban, match.pattern});
        break;
    }
    case JailJudge::Verdict::counted:
        break;
    }
    ++stats_.hits;
    batcher_.add_hit({jail.name, outcome.key, time, static_cast<std::uint32_t>(match.pattern)});
}

void BanPipeline::note_success(JailRuntime& jail, std::size_t source, std::string_view message,
                               std::int64_t time) {
    const LineMatch login = jail.match_success(source, message);
    if (login.kind != LineMatch::Kind::hit)
        return;
    if (const auto key = jail.record_login(login.host, login.account, time)) {
        ++stats_.logins;
        batcher_.add_success({jail.name, *key, std::string(login.account), time});
    }
}

void BanPipeline::on_caught_up() {
    batcher_.on_caught_up();
}

void BanPipeline::on_wake() {
    batcher_.on_wake();
    health_.on_wake();
}

void BanPipeline::announce_bans_changed() {
    if (bans_changed_)
        bans_changed_();
}

void BanPipeline::carry_over(const BanPipeline& earlier) {
    stats_ = earlier.stats_;
    for (const auto& jail : jails_) {
        const auto before = std::find_if(earlier.jails_.begin(), earlier.jails_.end(),
                                         [&](const auto& old) { return old->name == jail->name; });
        if (before != earlier.jails_.end())
            jail->carry_pattern_hits(**before);
    }
}

} // namespace exim_ban
