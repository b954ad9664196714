"""Part `rotation` of journal-test, run inside the booted machine: journald
rotates and vacuums its files while exim-band (dry run, a jail on the
journal) is stopped and while it runs. Every entry is one hit of an address
of its own, so the store says exactly which entries were read:

  stopped   a committed cursor whose file is vacuumed (--vacuum-files):
            the next start reads every entry after it that is still
            present, none twice, and says once that the cursor is gone;
  running   files rotated and vacuumed (--vacuum-files, --vacuum-time)
            under the reading daemon: every entry still present is read,
            none twice; a stop and start on a cursor still present says
            nothing about it and reads nothing again.

0 lost among the entries still present, 0 counted twice, in every stage."""

import collections
import re
import syslog

from band_harness import Band, distinct_address, failure_line, key_of, wait_for
from failure import Failure, check
from journal_source import (IDENTIFIER, JAIL_SETTINGS, LOGPATH, archived_files, entries, rotate, text,
                            vacuum)

CHUNK = 500
# How exim-band says that its committed cursor is no longer in the journal.
CURSOR_GONE = re.compile(r"cursor\b.*\b(?:gone|no longer|not found)\b", re.IGNORECASE)


class JournalRotation:
    def __init__(self, band, work, say):
        self.say = say
        self.band = Band(band, work, [LOGPATH], jail_extra=JAIL_SETTINGS)
        self.sent = []  # the key of every entry sent, in order
        syslog.openlog(IDENTIFIER, syslog.LOG_PID, syslog.LOG_MAIL)

    def send(self, count):
        """`count` entries, each one hit of a key of its own; returns their
        keys."""
        keys = []
        for _ in range(count):
            address = distinct_address(len(self.sent))
            syslog.syslog(syslog.LOG_INFO, failure_line(address).rstrip("\n"))
            self.sent.append(key_of(address))
            keys.append(key_of(address))
        return keys

    def stored(self):
        return collections.Counter(address for address, _when in self.band.hits())

    def present(self):
        """The keys of the entries the journal still holds."""
        keys = []
        for entry in entries():
            found = re.search(r"\[([0-9a-f.:]+)\]:", text(entry["MESSAGE"]))
            keys.append(key_of(found.group(1)))
        return keys

    def cursor_notes(self):
        return len([line for line in self.band.log().splitlines() if CURSOR_GONE.search(line)])

    def check_stage(self, stage, must_read):
        """Waits until the store holds every key of `must_read` (entries the
        daemon had to read); then no key stored twice, none never sent,
        every entry still present read. Returns the figures said."""
        must_read = set(must_read)
        wait_for("the %d entries of stage %s in the store" % (len(must_read), stage),
                 lambda: must_read <= set(self.stored()), timeout=30)
        stored = self.stored()
        present = self.present()
        doubled = {key: n for key, n in stored.items() if n > 1}
        invented = set(stored) - set(self.sent)
        lost = set(present) - set(stored)
        check(not doubled, "%s: %d keys counted twice, e.g. %s" % (stage, len(doubled), list(doubled)[:3]))
        check(not invented, "%s: %d keys never sent, e.g. %s" % (stage, len(invented), list(invented)[:3]))
        check(not lost, "%s: %d entries still present never read, e.g. %s" % (stage, len(lost), list(lost)[:3]))
        self.say("%s: sent %d, present %d, stored %d (lost among present 0, doubled 0), archived files %d"
                 % (stage, len(self.sent), len(present), sum(stored.values()), len(archived_files())))
        return stored

    def vacuum_files(self):
        """--vacuum-files=1: journald counts its active file, so every
        archived file goes; returns how many."""
        deleted = vacuum("--vacuum-files=1")
        check(deleted, "journalctl --vacuum-files=1 deleted no archived file (%d left)" % len(archived_files()))
        return len(deleted)

    def vacuum_old(self):
        """--vacuum-time=1s after a rotation, until it deletes the file that
        was active: journald judges a file's age by its newest entry."""
        rotate()
        newest = archived_files()[-1]
        wait_for("journalctl --vacuum-time=1s to delete %s" % newest,
                 lambda: newest in vacuum("--vacuum-time=1s"), timeout=10, interval=0.2)

    def stopped(self):
        """A committed cursor vacuumed while the daemon is stopped."""
        self.band.start()
        first = self.send(CHUNK)
        self.check_stage("first read", first)
        self.band.stop()
        gone = self.send(CHUNK)  # in the cursor's file: vacuumed with it
        rotate()
        after = self.send(CHUNK)
        deleted = self.vacuum_files()
        check(not set(gone) & set(self.present()), "the entries after the cursor in its file were vacuumed")
        self.band.start()
        stored = self.check_stage("stopped, cursor vacuumed (%d files)" % deleted, first + after)
        check(not set(gone) & set(stored), "no entry of the vacuumed file was read")
        check(self.cursor_notes() == 1, "exim-band said once that its cursor is gone: %d lines\n%s"
              % (self.cursor_notes(), self.band.log()[-2000:]))

    def running(self):
        """Rotations and vacuuming under the reading daemon."""
        read = set(self.stored())
        for stage, vacuuming in (("running, --vacuum-files", self.vacuum_files),
                                 ("running, --vacuum-time", self.vacuum_old)):
            self.send(CHUNK)
            rotate()
            self.send(CHUNK)
            vacuuming()
            self.send(CHUNK)
            read = set(self.check_stage(stage, set(self.present()) | read))
        notes = self.cursor_notes()
        self.band.stop()
        self.band.start()
        self.send(CHUNK)
        self.check_stage("restarted on a cursor still present", set(self.present()) | read)
        check(self.cursor_notes() == notes, "no word of a cursor gone after a restart on one that is present")

    def vacuumed_twice(self):
        """The daemon stopped with its cursor in the active file; that file
        archived and vacuumed: the next start says it once more."""
        read = set(self.stored())
        self.band.stop()
        self.vacuum_old()
        after = self.send(CHUNK)
        self.band.start()
        self.check_stage("stopped, active file archived and vacuumed", read | set(after))
        check(self.cursor_notes() == 2, "exim-band said once more that its cursor is gone: %d lines in all"
              % self.cursor_notes())

    def run(self):
        try:
            self.stopped()
            self.running()
            self.vacuumed_twice()
        except Failure:
            self.say("exim-band's log (end):\n" + self.band.log()[-3000:])
            raise
        finally:
            if self.band.process is not None:
                self.band.stop()


def run(args, work, say):
    """The part's entry: returns the exit status."""
    JournalRotation(args.band, work, say).run()
    say("PASS")
    return 0

