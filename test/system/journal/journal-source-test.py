#!/usr/bin/env python3
"""journal-source-test.py BAND BANCTL -- exim-band reading the systemd
journal (logpath = journal), without a booted system: a journald of the
test's own (support/private_journald.py) that exim-band reads through
--journal-directory.

- Bans: Exim's entries (SYSLOG_IDENTIFIER=exim) make the same bans as the
  same lines in a mainlog, and count together with the jail's mainlog; another program's entries with the same text
  (outside the journalmatch) and a MESSAGE whose attack line follows a
  newline make none; a MESSAGE that is not UTF-8 is read on.
- Exim's syslog_duplication: a line sent twice (main copy at priority info,
  reject copy at notice, split with the message's headers or not) counts
  once; the reject copy alone counts once; honest repeats each count.
- Exactly once: hits of distinct addresses written while the daemon is
  killed (-9) again and again, stopped, reloaded (SIGHUP): every hit stored
  once, none lost (the cursor is committed with the hits).
- A cursor whose entry was rotated and vacuumed away: the daemon logs it once
  and reads on at the oldest entry after it.
- A journalmatch changed on reload reads on where the journal was read to:
  no entry counted twice."""

import datetime
import os
import random
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import private_journald  # noqa: E402
from band_harness import FILTERS, Band, compare_hits, failure_line, wait_for  # noqa: E402
from command_line import exit_with  # noqa: E402
from failure import Failure, check, checks_held  # noqa: E402
from say import sayer  # noqa: E402

say = sayer("journal-source")
MATCH = "SYSLOG_IDENTIFIER=exim"


def exim_message(address, when=None):
    """What Exim hands syslog for one authenticator failure of `address`:
    its mainlog line (its own timestamp first), without the newline."""
    return failure_line(address, when).rstrip("\n")


def parses_journal_lines(banctl, tmp):
    """Whether this tree's line parser reads the RFC 3339 syslog form the
    journal source writes (core/exim_line, taught in [S10] part 3)."""
    sample = os.path.join(tmp, "journal-form.log")
    now = datetime.datetime.now(datetime.timezone.utc)
    with open(sample, "w") as f:
        f.write("%s mx1 exim[4711]: %s\n" % (now.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00"),
                                             exim_message("192.0.2.1")))
    result = subprocess.run([banctl, "test", "--json", "--filters-dir", FILTERS, sample, "exim"],
                            capture_output=True, text=True, timeout=60)
    return result.returncode == 0 and '"matched":1' in result.stdout.replace(" ", "")


class JournalTest:
    def __init__(self, band_binary, tmp):
        self.tmp = tmp
        self.journald = private_journald.Journald(os.path.join(tmp, "journald.log"))
        self.mainlog = os.path.join(tmp, "mainlog")
        open(self.mainlog, "w").close()
        self.band = Band(band_binary, tmp, [self.mainlog, "journal"], jail_extra="journalmatch = %s\n" % MATCH)
        self.args = ("--journal-directory", self.journald.directory)
        self.written = []  # addresses, one per hit entry sent under MATCH

    def send_exim(self, address, pid=4711):
        self.journald.send(MESSAGE=exim_message(address), SYSLOG_IDENTIFIER="exim", SYSLOG_PID=str(pid),
                           PRIORITY="6")
        self.written.append(address)

    def wait_stored(self):
        wait_for("%d hits stored" % len(self.written), lambda: self.band.hit_count() >= len(self.written),
                 timeout=60)

    def bans_and_refusals(self):
        bystander, injected = "192.0.2.20", "192.0.2.30"
        for _ in range(3):
            self.journald.send(MESSAGE=exim_message(bystander), SYSLOG_IDENTIFIER="postfix")
            self.journald.send(MESSAGE="SMTP protocol error in \"AUTH x\"\n" + exim_message(injected),
                               SYSLOG_IDENTIFIER="exim", SYSLOG_PID="4711")
            self.journald.send(MESSAGE=b"\xff\xfe not UTF-8 \x00 bytes", SYSLOG_IDENTIFIER="exim")
            self.send_exim("192.0.2.10")
        # One key's hits from the file and the journal count together.
        self.send_exim("192.0.2.11")
        self.send_exim("192.0.2.11")
        with open(self.mainlog, "a") as f:
            f.write(failure_line("192.0.2.11"))
        self.written.append("192.0.2.11")
        self.band.start(*self.args)
        self.wait_stored()
        keys = {key for _, key, _, _ in self.band.bans()}
        check(keys == {"192.0.2.10", "192.0.2.11"},
              "bans from the journal and the file: %s, want 192.0.2.10 and .11" % sorted(keys))
        problems = compare_hits(self.written, self.band.hits())
        check(not problems, "; ".join(problems))
        say("3 entries of exim: banned; 2 entries and 1 mainlog line: banned; 3 of postfix and 3 with "
            "the attack after a newline: no ban")

    def syslog_duplication(self):
        """Exim's two copies of a line meant for the rejectlog too (main at
        info, reject at notice, split with the message's headers), as its
        default syslog_duplication sends them, count once; so does the
        reject copy alone (syslog_duplication = false), and honest repeats
        each count."""
        def with_headers(message):
            return ["[1\\3] " + message, "[2\\3] Envelope-from: <a@example.com>",
                    "[3/3] Envelope-to: <b@example.com>"]

        def both(address, pid, headers=False):
            message = exim_message(address)
            self.journald.send(MESSAGE=message, SYSLOG_IDENTIFIER="exim", SYSLOG_PID=str(pid), PRIORITY="6")
            for part in with_headers(message) if headers else [message]:
                self.journald.send(MESSAGE=part, SYSLOG_IDENTIFIER="exim", SYSLOG_PID=str(pid), PRIORITY="5")
            self.written.append(address)

        def reject_only(address, pid):
            self.journald.send(MESSAGE=exim_message(address), SYSLOG_IDENTIFIER="exim", SYSLOG_PID=str(pid),
                               PRIORITY="5")
            self.written.append(address)

        for _ in range(3):
            both("192.0.2.40", 5001)
            reject_only("192.0.2.41", 5002)
            self.send_exim("192.0.2.42", 5003)  # info twice: an honest repeat
        both("192.0.2.43", 5004, headers=True)
        for part in with_headers(exim_message("192.0.2.44")):
            self.journald.send(MESSAGE=part, SYSLOG_IDENTIFIER="exim", SYSLOG_PID="5005", PRIORITY="5")
        self.written.append("192.0.2.44")
        # Two processes at once: each reject copy is told by its own pid.
        first, second = exim_message("192.0.2.45"), exim_message("192.0.2.46")
        for message, pid, priority in ((first, 5006, "6"), (second, 5007, "6"), (second, 5007, "5"),
                                       (first, 5006, "5")):
            self.journald.send(MESSAGE=message, SYSLOG_IDENTIFIER="exim", SYSLOG_PID=str(pid), PRIORITY=priority)
        self.written += ["192.0.2.45", "192.0.2.46"]
        # Stored after everything above: a copy counted twice is stored by then.
        self.send_exim("192.0.2.49")
        wait_for("the last entry's hit", lambda: any(a == "192.0.2.49" for a, _ in self.band.hits()), timeout=60)
        problems = compare_hits(self.written, self.band.hits())
        check(not problems, "Exim's syslog copies: " + "; ".join(problems))
        say("Exim's two syslog copies (whole, split with headers, two processes at once) counted once, the "
            "reject copy alone once, honest repeats each")

    def exactly_once(self, rng, kills):
        counter = 0
        for round_number in range(kills):
            for _ in range(rng.randrange(50, 300)):
                counter += 1
                self.send_exim("198.18.%d.%d" % (counter // 250, counter % 250 + 1))
            if round_number % 5 == 4:
                self.band.process.send_signal(signal.SIGHUP)
            if round_number % 7 == 6:
                self.band.stop()
            else:
                # Killed mid-read more often than not: the entries were just sent.
                self.band.kill()
            self.band.start(*self.args)
        self.wait_stored()
        stored = self.band.hits()
        problems = compare_hits(self.written, stored)
        check(not problems, "; ".join(problems))
        say("%d hits over %d kill -9 / stops / reloads: %d stored, 0 lost, 0 doubled"
            % (len(self.written), kills, len(stored)))

    def vacuumed_cursor(self):
        self.band.stop()
        lost = ["203.0.113.%d" % n for n in range(1, 6)]
        for address in lost:
            self.journald.send(MESSAGE=exim_message(address), SYSLOG_IDENTIFIER="exim")
        self.journald.rotate_and_vacuum()
        for n in range(1, 6):
            self.send_exim("198.51.100.%d" % n)
        self.band.start(*self.args)
        self.wait_stored()
        problems = compare_hits(self.written, self.band.hits())
        check(not problems, "after a vacuum: " + "; ".join(problems))
        check(self.band.log().count("committed cursor's entry is gone") == 1,
              "the vacuumed cursor must be logged once:\n" + self.band.log()[-2000:])
        say("cursor vacuumed away: logged once, read on at the oldest entry after it")

    def changed_match(self):
        with open(self.band.config) as f:
            config = f.read()
        with open(self.band.config, "w") as f:
            f.write(config.replace("journalmatch = %s\n" % MATCH,
                                   "journalmatch = %s + SYSLOG_IDENTIFIER=exim4\n" % MATCH))
        self.band.process.send_signal(signal.SIGHUP)
        wait_for("the reload", lambda: "reload: done" in self.band.log())
        for n in range(1, 6):
            self.send_exim("198.51.100.%d" % (n + 10))
        self.journald.send(MESSAGE=exim_message("198.51.100.99"), SYSLOG_IDENTIFIER="exim4")
        self.written.append("198.51.100.99")
        self.wait_stored()
        problems = compare_hits(self.written, self.band.hits())
        check(not problems, "after a new journalmatch: " + "; ".join(problems))
        say("journalmatch changed on reload: read on where the journal was read to, nothing twice")

    def stop(self):
        if self.band.process is not None:
            self.band.stop()
        self.journald.stop()


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    status = private_journald.enter()
    if status is not None:
        return status
    band_binary, banctl = (os.path.abspath(a) for a in sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="exim-band-journal-") as tmp:
        if not parses_journal_lines(banctl, tmp):
            say("SKIP: the line parser does not read the RFC 3339 syslog form yet ([S10] part 3)")
            return 77
        test = JournalTest(band_binary, tmp)
        try:
            test.bans_and_refusals()
            test.syslog_duplication()
            test.exactly_once(random.Random(int(os.environ.get("EXIM_BAN_SEED", "10"))), kills=20)
            test.vacuumed_cursor()
            test.changed_match()
        except Failure as failure:
            say("FAIL: %s\n--- exim-band log:\n%s" % (failure, test.band.log()[-4000:]))
            return 1
        finally:
            test.stop()
    say("PASS (%d checks)" % checks_held())
    return 0


if __name__ == "__main__":
    exit_with(main, say)
