// fail2ban's `journalmatch`: which journal entries a jail reads. Words
// FIELD=VALUE, separated by blanks; a word "+" separates alternatives. Within
// an alternative the same field twice is either value, different fields must
// all match (sd_journal_add_match's rules); an entry matching any
// alternative is read (sd_journal_add_disjunction). Values hold no blanks.
//   SYSLOG_IDENTIFIER=exim SYSLOG_IDENTIFIER=exim4 + _SYSTEMD_UNIT=exim4.service
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace exim_ban {

struct JournalMatch {
    // Each alternative's FIELD=VALUE terms, in the order written; never an
    // empty alternative.
    std::vector<std::vector<std::string>> alternatives;

    // The match as one text: terms joined by a space, alternatives by " + ".
    // Names the journal source (its position in the store), so two jails
    // writing the same match read the same source.
    std::string text() const;
};

struct JournalMatchParse {
    std::optional<JournalMatch> match; // when the text is a match
    std::string error;                 // else what is wrong and what to write
};

// An empty text (blanks only) is an error too: a journal jail must say which
// entries are its.
JournalMatchParse parse_journal_match(std::string_view text);

} // namespace exim_ban
