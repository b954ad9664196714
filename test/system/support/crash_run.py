"""exim-band killed with SIGKILL at random moments while a ground-truth log
is written: the run of daemon-crash-test, for any log the daemon can read
(a mainlog rotated as exicyclog does, the systemd journal rotated by
journald), and its verdict: the store's hits equal the ground truth exactly
(0 lost, 0 double-counted) and its bans equal what `exim-banctl test
--bans` computes offline on the whole log, in order."""

import signal
import threading
import time

from band_harness import Band, against_offline_scan, wait_for
from failure import Failure


def crash_run(args, rng, log, workdir, say, scale=1.0):
    """Runs exim-band (args.band, dry run) on `log` (a GroundTruthLog or one
    with its interface) in `workdir`, kills it with SIGKILL at least
    args.kills times while chunks of lines are written (their sizes times
    `scale`), restarting it each time; then checks the store against the
    offline scan (args.banctl). Says the figures; returns the exit status."""
    band = Band(args.band, workdir, [log.path], jail_extra="bantime.increment = true\n" + log.jail_settings)
    band.start()
    kills = 0
    step = 0
    started = time.monotonic()
    while kills < args.kills:
        step += 1
        log.write(rng, step, int(rng.randrange(50, 4000) * scale))
        if rng.random() < 0.3:
            log.rotate_when_read(band)
        if rng.random() < 0.6:
            # Kill at a random moment of whatever the daemon is doing:
            # reading a backlog, committing, following a rotation.
            killer = threading.Timer(rng.uniform(0, 0.05), lambda: band.process.send_signal(signal.SIGKILL))
            killer.start()
            log.write(rng, step, int(rng.randrange(0, 40000) * scale))
            killer.join()
            band.reap()
            kills += 1
            band.start()
    try:
        wait_for("%d hits in the store" % len(log.written), lambda: band.hit_count() >= len(log.written), timeout=60)
    except Failure:
        say("%d hits in the store; exim-band's log (end):\n%s" % (band.hit_count(), band.log()[-3000:]))
        raise
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
