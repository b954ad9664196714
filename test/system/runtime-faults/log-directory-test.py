#!/usr/bin/env python3
"""log-directory-test.py BAND -- the directory holding mainlog is removed
(rm -rf) and made again under the running exim-band, three times.

Each round: attack lines (three failures per attacker, so each one is
banned) and benign lines are written and counted; then the whole directory
goes, and a new directory with a new mainlog comes back, with new lines at
once (round 1), after the daemon noticed the loss (round 2), and with the
lines written before the file is created in it by rename (round 3). Every
hit line written into a directory that exists is counted exactly once, and
every attacker is banned (dry-run firewall, real files and inotify)."""

import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from command_line import start  # noqa: E402
from failure import Failure  # noqa: E402
from say import sayer  # noqa: E402
from band_harness import Band, benign_line, compare_hits, failure_line, key_of, wait_for  # noqa: E402

ROUNDS = 3
ATTACKERS_PER_ROUND = 20


say = sayer("log-directory-test")


def round_text(round_number, written):
    """The lines of one round; the attackers' addresses are added to
    `written`, once per hit line."""
    lines = []
    for n in range(ATTACKERS_PER_ROUND):
        address = ("192.0.2.%d" % (round_number * ATTACKERS_PER_ROUND + n + 1) if n % 4
                   else "2001:db8:%x::%x" % (round_number, n + 1))
        for _ in range(3):
            lines.append(failure_line(address))
            written.append(address)
        lines.append(benign_line(n))
    return "".join(lines)


def main():
    status = start(2, __doc__)
    if status is not None:
        return status
    with tempfile.TemporaryDirectory(prefix="exim-band-logdir-") as tmp:
        logdir = os.path.join(tmp, "log")
        mainlog = os.path.join(logdir, "mainlog")
        os.mkdir(logdir)
        band = Band(os.path.abspath(sys.argv[1]), tmp, [mainlog])
        written = []
        started = time.monotonic()
        try:
            with open(mainlog, "w") as log:
                log.write(round_text(0, written))
            band.start()
            wait_for("round 0's hits", lambda: band.hit_count() == len(written))
            for round_number in range(1, ROUNDS + 1):
                missing_before = band.log().count("does not exist; waiting for it")
                shutil.rmtree(logdir)
                if round_number == 2:
                    wait_for("the daemon to notice that mainlog is gone",
                             lambda: band.log().count("does not exist; waiting for it") > missing_before)
                os.mkdir(logdir)
                text = round_text(round_number, written)
                if round_number == 3:
                    # Made beside it and renamed in: the file arrives whole.
                    with open(mainlog + ".new", "w") as log:
                        log.write(text)
                    os.rename(mainlog + ".new", mainlog)
                else:
                    with open(mainlog, "w") as log:
                        log.write(text)
                wait_for("round %d's hits (%d in all)" % (round_number, len(written)),
                         lambda: band.hit_count() >= len(written))
            band.stop()
            elapsed = time.monotonic() - started

            stored = band.hits()
            problems = compare_hits(written, stored)
            banned = {key for _jail, key, _start, _duration in band.bans()}
            attackers = {key_of(a) for a in written}
            if attackers - banned:
                problems.append("%d attacker(s) not banned, e.g. %s"
                                % (len(attackers - banned), sorted(attackers - banned)[:3]))
            if problems:
                raise Failure("; ".join(problems))
            say("PASS: %d rounds of rm -rf of the log directory; %d hit lines, %d hits stored "
                "(lost 0, double-counted 0), %d bans of %d attackers, in %.1f s"
                % (ROUNDS, len(written), len(stored), len(banned), len(attackers), elapsed))
            return 0
        except Failure as error:
            say("FAIL: %s" % error)
            print(band.log()[-4000:])
            return 1
        finally:
            if band.process is not None:
                band.kill()


if __name__ == "__main__":
    sys.exit(main())
