#!/usr/bin/env python3
"""daemon-crash-test.py mainlog|two-sources BAND BANCTL [--kills N] [--seed S]
-- exim-band killed with SIGKILL at random points loses and double-counts
nothing.

A writer appends a known log (attackers and benign lines, rotated now and
then as exicyclog does: mainlog.01 -> mainlog.02, mainlog -> mainlog.01, a
new mainlog) while the test kills the daemon with SIGKILL at random moments,
at least N times, restarting it each time. At the end the store's hits equal
the ground truth exactly (0 lost, 0 double-counted) and its bans equal what
`exim-banctl test --bans` computes offline on the whole log, in order.

two-sources: the same with a jail of two sources, Exim's mainlog (its own
logpath) and Dovecot's log (an [exim/dovecot] section, filter dovecot,
auth_verbose: a failed session's attempts told by its auth process's
lines and summed up by the login process's line, often a kill apart), each
written, rotated and committed on its own: each attempt once across the
kills; the offline scan replays both (`exim-banctl test --jail`)."""

import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from band_harness import GroundTruthLog, TwoSourceLog  # noqa: E402
from command_line import exit_with, kill_test_arguments  # noqa: E402
from crash_run import crash_run  # noqa: E402
from say import sayer  # noqa: E402

say = sayer("daemon-crash-test")


def main():
    args, rng = kill_test_arguments(25, say, parts=["mainlog", "two-sources"])
    with tempfile.TemporaryDirectory(prefix="exim-band-crash-") as tmp:
        log = GroundTruthLog(os.path.join(tmp, "log")) if args.part == "mainlog" else TwoSourceLog(tmp)
        return crash_run(args, rng, log, tmp, say)


if __name__ == "__main__":
    exit_with(main, say)
