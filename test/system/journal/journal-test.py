#!/usr/bin/env python3
"""journal-test.py PART BAND BANCTL [--kills N] [--seed S] -- exim-band
reading the systemd journal (`logpath = journal`, journalmatch
SYSLOG_IDENTIFIER=exim) in a booted machine: a copy-on-write clone of this
machine under systemd-nspawn (support/booted_machine.py), its own journald
(no rsyslog, rate limiting off), network and kernel ruleset. PART, run
inside the machine with the build tree's BAND and BANCTL:

  exim      Debian's Exim 4.96 logging to its mainlog and to syslog under
            real SMTP attacks (exim_journal.py): a jail on the journal and
            one on the mainlog count every host as `exim-banctl test` counts
            the mainlog and ban the same keys in the machine's nftables,
            with Exim's default syslog_duplication (true): the journal
            holds each line meant for the rejectlog twice.
  exim-noduplication
            the same with syslog_duplication = false: those lines once.
  crash     daemon-crash-test's run (support/crash_run.py) on the journal:
            lines sent as Exim sends them (syslog(3), identifier exim),
            journald rotating now and then, exim-band killed with SIGKILL at
            least N times (25 unless told): 0 hits lost, 0 counted twice,
            the bans of `exim-banctl test --bans` on the journal's lines.
  rotation  journald rotating and vacuuming while exim-band is stopped and
            while it runs (journal_rotation.py): 0 lost among the entries
            still present, none counted twice; a committed cursor that was
            vacuumed resumes at the oldest entry after it, said once.

Needs root (namespaces, mounts, nftables), else exit 77; exit 77 too when a
tool is missing. Everything lives in the machine and its namespaces, which
die with the test on every path."""

import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from booted_machine import inside_args, missing_tools, run_inside, with_machine  # noqa: E402
from command_line import exit_with, kill_test_arguments  # noqa: E402
from crash_run import crash_run  # noqa: E402
from failure import Failure, check  # noqa: E402
from say import sayer  # noqa: E402
import exim_journal  # noqa: E402
import journal_rotation  # noqa: E402
from journal_source import GroundTruthJournal, lines_parsed  # noqa: E402

PARTS = ("exim", "exim-noduplication", "crash", "rotation")
KILLS = 25
IN_MACHINE = "--in-machine"
TIMEOUT = 240  # the part's; ctest's (360 s) leaves room for the boot and the clean-up
TOOLS = ("exim", "swaks", "nft", "openssl", "journalctl", "logger")
# The machine's journald: every line kept, however fast they come.
JOURNALD = "[Journal]\nStorage=persistent\nRateLimitIntervalSec=0\n"

say = sayer("journal-test")


def forwarded(args):
    return [args.part, os.path.abspath(args.band), os.path.abspath(args.banctl), "--kills", str(args.kills),
            "--seed", str(args.seed)]


def in_machine(argv):
    """The part, in the machine: its exit status."""
    args, rng = kill_test_arguments(KILLS, say, PARTS, argv)
    with tempfile.TemporaryDirectory(prefix="exim-ban-journal-") as work:
        os.chmod(work, 0o755)  # Exim's user reaches its spool, logs and TLS files
        if args.part in ("exim", "exim-noduplication"):
            return exim_journal.run(args, work, say, duplication=args.part == "exim")
        if args.part == "crash":
            # A tenth of daemon-crash-test's lines: journald stores each
            # with a few hundred bytes of fields.
            return crash_run(args, rng, GroundTruthJournal(os.path.join(work, "log")), work, say, scale=0.1)
        return journal_rotation.run(args, work, say)


def inside(work, argv):
    """In the test's namespaces: the machine booted, the part run in it."""
    def part(machine):
        for path in (os.path.abspath(__file__), *argv[1:3]):
            check(machine.run("test", "-x", path, check_code=False).returncode == 0,
                  "%s is not reachable in the machine: the clone shows the host's root file system alone "
                  "(no other mount), and its /tmp is its own" % path)
        try:
            return machine.stream(sys.executable, os.path.abspath(__file__), IN_MACHINE, *argv, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise Failure("part %s did not end within %d s" % (argv[0], TIMEOUT)) from None
    return with_machine(work, "exim-ban-journal", part, say,
                        files={"/etc/systemd/journald.conf.d/exim-ban-test.conf": os.path.join(work, "journald.conf")})


def main():
    args = inside_args()
    if args is not None:
        return inside(args[0], args[1:])
    if len(sys.argv) >= 2 and sys.argv[1] == IN_MACHINE:
        return in_machine(sys.argv[2:])
    if os.geteuid() != 0:
        say("SKIP: needs root (namespaces, mounts, nftables)")
        return 77
    missing = missing_tools(TOOLS)
    if missing:
        say("SKIP: %s not installed (packaging/install-deps installs them)" % " ".join(missing))
        return 77
    args, _rng = kill_test_arguments(KILLS, say, PARTS)
    if not lines_parsed(args.banctl):
        say("SKIP: %s does not read the journal source's lines (the RFC 3339 syslog form, [S10] part 3)"
            % args.banctl)
        return 77
    work = tempfile.mkdtemp(prefix="exim-ban-journal-test-")
    try:
        with open(os.path.join(work, "journald.conf"), "w") as f:
            f.write(JOURNALD)
        return run_inside([work, *forwarded(args)], timeout=TIMEOUT + 60)
    except subprocess.TimeoutExpired:
        raise Failure("the machine did not boot, run part %s and power off within %d s"
                      % (args.part, TIMEOUT + 60)) from None
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    exit_with(main, say)
