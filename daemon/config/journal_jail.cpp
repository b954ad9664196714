#include "config/journal_jail.hpp"

namespace exim_ban {

JailJournalMatch journal_match_of(const Config& config, const JailConfig& jail,
                                  const LoadedFilter& filter) {
    if (!jail.journal)
        return {};
    const auto& origins = config.origins.at(jail.name);
    if (jail.journalmatch)
        return {jail.journalmatch, origins.at("journalmatch").from, {}};
    if (filter.journalmatch)
        return {filter.journalmatch, filter.journalmatch_origin, {}};
    // Reading every entry of the journal would match other daemons' lines
    // against Exim's patterns: a journal jail must say which entries are its.
    return {std::nullopt,
            {},
            origins.at("logpath").from + ": [" + jail.name +
                "] logpath = journal reads the systemd journal, but neither the jail nor its "
                "filter " +
                filter.name + " sets journalmatch; add to [" + jail.name +
                "]: journalmatch = SYSLOG_IDENTIFIER=exim (Exim logging through syslog) or "
                "journalmatch = _SYSTEMD_UNIT=exim4.service (its output)"};
}

} // namespace exim_ban
