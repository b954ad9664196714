"""A driver's command line: the checks a test driver starts with, and the
subcommand a multi-part driver's first argument names."""

import argparse
import os
import random
import shutil
import sys
import tempfile
import time

import own_netns
from failure import Failure
from nft_monitor import MonitorEnded
from test_run import run_test


def run_netns_test(make_test, count, doc, prefix, say):
    """A driver whose arguments are the binaries it tests, run in a network
    namespace of its own: start()'s checks, then make_test(*their absolute
    paths, a fresh temporary directory named PREFIX...) through
    test_run.run_test, a Failure or the monitor's end being a FAIL. Returns
    the exit status."""
    status = start(count, doc, netns=True)
    if status is not None:
        return status
    binaries = [os.path.abspath(a) for a in sys.argv[1:]]
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        return run_test(make_test(*binaries, tmp), (Failure, MonitorEnded), say)


def start(count, doc, say=print, root_for=None, tools=(), netns=False):
    """The checks a test driver starts with, in this order: sys.argv holds
    `count` entries (its name too; otherwise `doc` is printed: 2); root,
    when `root_for` says what for ("SKIP: needs root ROOT_FOR": 77); each of
    `tools` installed (SKIP: 77); with `netns`, a network namespace of its
    own (own_netns.enter: the driver may be re-executed, or 77). Returns
    None when all hold, otherwise the exit status."""
    if len(sys.argv) != count:
        print(doc, file=sys.stderr)
        return 2
    if root_for is not None and os.geteuid() != 0:
        say("SKIP: needs root " + root_for)
        return 77
    for tool in tools:
        if shutil.which(tool) is None:
            say("SKIP: needs %s" % tool)
            return 77
    return own_netns.enter() if netns else None


def run_subcommand(commands, doc):
    """Runs the function commands[sys.argv[1]] names, given as (function,
    number of arguments; None: any number, passed as one list). Returns its
    result (None counts as 0), or prints `doc` and returns 2 when no command
    matches."""
    if len(sys.argv) >= 2 and sys.argv[1] in commands:
        function, count = commands[sys.argv[1]]
        args = sys.argv[2:]
        if count is None:
            return function(args) or 0
        if len(args) == count:
            return function(*args) or 0
    print(doc, file=sys.stderr)
    return 2


def kill_test_arguments(kills, say, parts=None, argv=None):
    """BAND BANCTL [--kills N] [--seed S] of a test that kills exim-band at
    random moments (`kills` times unless told), with `parts` a PART (one of
    them) first; `argv` instead of sys.argv[1:] if given: (the arguments, a
    random.Random of the seed); the seed is said, so that a run can be
    repeated."""
    parser = argparse.ArgumentParser()
    if parts:
        parser.add_argument("part", choices=parts)
    parser.add_argument("band")
    parser.add_argument("banctl")
    parser.add_argument("--kills", type=int, default=kills)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args(argv)
    say("seed %d (rerun with --seed %d)" % (args.seed, args.seed))
    return args, random.Random(args.seed)


def exit_with(main, say):
    """Exits with main()'s status; a Failure that escapes it is said as FAIL
    and exits 1."""
    try:
        sys.exit(main())
    except Failure as error:
        say("FAIL: %s" % error)
        sys.exit(1)
