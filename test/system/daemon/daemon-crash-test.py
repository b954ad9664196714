#!/usr/bin/env python3
"""daemon-crash-test.py BAND BANCTL [--kills N] [--seed S] -- exim-band killed
with SIGKILL at random points loses and double-counts nothing.

A writer appends a known log (attackers and benign lines, rotated now and
then as exicyclog does: mainlog.01 -> mainlog.02, mainlog -> mainlog.01, a
new mainlog) while the test kills the daemon with SIGKILL at random moments,
at least N times, restarting it each time. At the end the store's hits equal
the ground truth exactly (0 lost, 0 double-counted) and its bans equal what
`exim-banctl test --bans` computes offline on the whole log, in order."""

import os
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from band_harness import Band, GroundTruthLog, against_offline_scan, wait_for  # noqa: E402
from command_line import exit_with, kill_test_arguments  # noqa: E402
from say import sayer  # noqa: E402

say = sayer("daemon-crash-test")


def main():
    args, rng = kill_test_arguments(25, say)

    with tempfile.TemporaryDirectory(prefix="exim-band-crash-") as tmp:
        log = GroundTruthLog(os.path.join(tmp, "log"))
        band = Band(args.band, tmp, [log.path], jail_extra="bantime.increment = true\n")
        band.start()
        kills = 0
        step = 0
        started = time.monotonic()
        while kills < args.kills:
            step += 1
            log.write(rng, step, rng.randrange(50, 4000))
            if rng.random() < 0.3:
                log.rotate_when_read(band)
            if rng.random() < 0.6:
                # Kill at a random moment of whatever the daemon is doing:
                # reading a backlog, committing, following a rotation.
                killer = threading.Timer(rng.uniform(0, 0.05), lambda: band.process.send_signal(signal.SIGKILL))
                killer.start()
                log.write(rng, step, rng.randrange(0, 40000))
                killer.join()
                band.reap()
                kills += 1
                band.start()
        wait_for("%d hits in the store" % len(log.written), lambda: band.hit_count() >= len(log.written), timeout=60)
        band.stop()
        elapsed = time.monotonic() - started

        stored, want_bans, got_bans, problems = against_offline_scan(band, log, args.banctl)
        say("%d lines, %d hits, %d rotations, %d SIGKILLs in %.1f s; "
              "hits stored %d (lost %d, double-counted %d); bans %d, offline %d"
              % (log.lines, len(log.written), log.rotations, kills, elapsed, len(stored),
                 max(0, len(log.written) - len(stored)), max(0, len(stored) - len(log.written)),
                 len(got_bans), len(want_bans)))
        if problems:
            for problem in problems:
                say("FAIL: " + problem)
            print(band.log()[-4000:])
            return 1
        if not want_bans:
            say("FAIL: the log made no ban; the test proves nothing")
            return 1
        say("PASS")
        return 0


if __name__ == "__main__":
    exit_with(main, say)
