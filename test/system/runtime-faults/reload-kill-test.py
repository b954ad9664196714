#!/usr/bin/env python3
"""reload-kill-test.py BAND BANCTL [--kills N] [--seed S] -- exim-band killed
with SIGKILL while it reloads, N times, loses and double-counts nothing.

Lines flow (attackers and benign lines, now and then a rotation, as in
daemon-crash-test.py, whose log and offline scan this reuses from
band_harness); each round the configuration may change (its ignoreip
gains or loses an address no line holds), the daemon gets SIGHUP and, at
a random moment 0-50 ms later, SIGKILL, and is started again. At the end
the store holds every hit exactly once and its bans equal what `exim-banctl
test --bans` computes offline on the whole log."""

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

IGNORE = "ignoreip = 127.0.0.0/8 ::1"
IGNORE_MORE = IGNORE + " 192.0.2.255"


say = sayer("reload-kill-test")


def flip_config(band):
    """The reload has something to read: ignoreip with or without an
    address that no line holds (the bans stay what the offline scan says)."""
    with open(band.config) as f:
        text = f.read()
    text = text.replace(IGNORE_MORE, IGNORE) if IGNORE_MORE in text else text.replace(IGNORE, IGNORE_MORE)
    with open(band.config + ".new", "w") as f:
        f.write(text)
    os.replace(band.config + ".new", band.config)


def main():
    args, rng = kill_test_arguments(20, say)

    with tempfile.TemporaryDirectory(prefix="exim-band-reload-kill-") as tmp:
        log = GroundTruthLog(os.path.join(tmp, "log"))
        band = Band(os.path.abspath(args.band), tmp, [log.path], extra=IGNORE + "\n",
                    jail_extra="bantime.increment = true\n")
        try:
            band.start()
            started = time.monotonic()
            for step in range(1, args.kills + 1):
                log.write(rng, step, rng.randrange(50, 3000))
                if rng.random() < 0.2:
                    log.rotate_when_read(band)
                if rng.random() < 0.5:
                    flip_config(band)
                band.process.send_signal(signal.SIGHUP)
                process = band.process
                killer = threading.Timer(rng.uniform(0, 0.05), lambda: process.send_signal(signal.SIGKILL))
                killer.start()
                log.write(rng, step, rng.randrange(0, 8000))  # lines flow through the reload and the kill
                killer.join()
                band.reap()
                band.start()
            wait_for("%d hits in the store" % len(log.written), lambda: band.hit_count() >= len(log.written),
                     timeout=60)
            band.stop()
        finally:
            if band.process is not None:
                band.kill()
        elapsed = time.monotonic() - started

        daemon_log = band.log()
        reloads_begun = daemon_log.count("reload: reading")
        reloads_done = daemon_log.count("reload: done")
        stored, want_bans, got_bans, problems = against_offline_scan(band, log, args.banctl)
        if "reload refused" in daemon_log:
            problems.append("a reload was refused")
        if reloads_begun < args.kills // 2:
            problems.append("only %d of %d SIGHUPs began a reload before the kill" % (reloads_begun, args.kills))
        if not want_bans:
            problems.append("the log made no ban; the test proves nothing")
        figures = ("%d lines, %d hits, %d rotations, %d SIGHUP+SIGKILLs (%d reloads begun, %d done before "
                   "the kill) in %.1f s; hits stored %d (lost %d, double-counted %d); bans %d, offline %d; seed %d"
                   % (log.lines, len(log.written), log.rotations, args.kills, reloads_begun, reloads_done, elapsed,
               len(stored), max(0, len(log.written) - len(stored)), max(0, len(stored) - len(log.written)),
                      len(got_bans), len(want_bans), args.seed))
        if problems:
            for problem in problems:
                say("FAIL: " + problem)
            say("figures: " + figures)
            print(daemon_log[-4000:])
            return 1
        say("PASS: " + figures)
        return 0


if __name__ == "__main__":
    exit_with(main, say)
