#!/usr/bin/env python3
"""e2e.py -- the driver, the clients and the observers of exim-e2e-test.

Called by exim-e2e-test:
  e2e.py files WORK           write the passwd and the two allow files the
                              Exim config reads; print the bot's addresses
                              (one "ADDR/PREFIXLEN" a line) for its veth
  e2e.py run ARGS...          (in the server namespace) the test: starts the
                              mainlog follower, the netlink monitor and
                              exim-band, drives the bot and the user, asserts
and by the driver itself, as child processes:
  e2e.py follow MAINLOG       (SCHED_FIFO if allowed) print "MONO_NS LINE"
                              for every line Exim appends, MONO_NS being
                              CLOCK_MONOTONIC when inotify reported the write
  e2e.py client KIND SRC DST  (in the bot namespace) one raw SMTP session of
                              the bot (kinds: see RAW_KINDS); prints JSON
  e2e.py probe SRC,DST,PORT...
                              (in a client namespace) one TCP connect per
                              argument, all at once, each bounded by
                              PROBE_TIMEOUT; prints JSON: per argument
                              "timeout", "refused", "connected 220", ...

Every wait is bounded, and is for an event (a mainlog line, a netlink
announcement, a process exit) or a polled condition (the store's hit count,
the kernel's elements); there are no fixed sleeps.
"""

import os
import sys

sys.dont_write_bytecode = True   # no __pycache__ beside the drivers
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from bot_session import main_client  # noqa: E402
from command_line import run_subcommand  # noqa: E402
from follower import main_follow  # noqa: E402
from plan import main_files  # noqa: E402
from probe import main_probe  # noqa: E402
from run import main_run  # noqa: E402


def main():
    return run_subcommand({"files": (main_files, 1), "follow": (main_follow, 1), "client": (main_client, 3),
                           "probe": (main_probe, None), "run": (main_run, None)}, __doc__)


if __name__ == "__main__":
    sys.exit(main())
