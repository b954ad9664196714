#include "config/journal_jail.hpp"

namespace exim_ban {

JailJournalMatch journal_match_of(const Config& config, const SourceConfig& source,
                                  const LoadedFilter& filter) {
    if (!source.journal)
        return {};
    const auto& origins = config.origins.at(source.section);
    if (source.journalmatch)
        return {source.journalmatch, origins.at("journalmatch").from, {}};
    if (filter.journalmatch)
        return {filter.journalmatch, filter.journalmatch_origin, {}};
    // Reading every entry of the journal would match other daemons' lines
    // against Exim's patterns: a journal jail must say which entries are its.
    return {std::nullopt,
            {},
            origins.at("logpath").from + ": [" + source.section +
                "] logpath = journal reads the systemd journal, but neither the section nor its "
                "filter " +
                filter.name + " sets journalmatch; add to [" + source.section +
                "]: journalmatch = SYSLOG_IDENTIFIER=exim (Exim logging through syslog) or "
                "journalmatch = _SYSTEMD_UNIT=exim4.service (its output)"};
}

} // namespace exim_ban
