#!/usr/bin/env python3
"""daemon-rotation-test.py BAND -- the real exim-band follows a log through
every kind of rotation and restart, and stores each hit exactly once.

Each scenario writes Exim-shaped lines (a hit of a different address on
every hit line, benign lines between), rotates or restarts as named (the
"late" ones go on writing to the renamed file, as an Exim process that
opened it before the rotation does, after the daemon has moved to the new
file: they are read within the rotation grace period, kill -9 included), waits
until the store holds as many hits as were written, stops the daemon with
SIGTERM (which must exit 0) and compares the stored hits with the written
ones address by address: 0 lost, 0 counted twice. The daemon runs with the
dry-run firewall: no root, no namespace needed."""

import os
import random
import shutil
import signal
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from failure import Failure  # noqa: E402
from band_harness import Band, benign_line, compare_hits, distinct_address, failure_line, wait_for  # noqa: E402


class Writer:
    """Appends to a log as Exim does (one write per line), remembering the
    hits it wrote."""

    def __init__(self, path):
        self.path = path
        self.written = []
        self.lines = 0
        self.late = 0  # lines written to a renamed file after the new one existed
        self.handle = None

    def open(self):
        self.handle = open(self.path, "a", buffering=1)

    def write(self, count, handle=None):
        """`handle`: another file than the path's (a renamed one)."""
        if handle is not None:
            self.late += count
        handle = handle or self.handle
        for _ in range(count):
            n = self.lines
            self.lines += 1
            if n % 3 == 2:
                handle.write(benign_line(n))
            else:
                address = distinct_address(n)
                self.written.append(address)
                handle.write(failure_line(address))
        handle.flush()

    def close(self):
        self.handle.close()


def settle(band, writer):
    wait_for("%d hits in the store" % len(writer.written), lambda: band.hit_count() >= len(writer.written))


def rename_and_create(band, writer):
    # Exim's exicyclog: mainlog -> mainlog.01; an Exim process that still
    # holds the old file writes a few more lines to it before the new one exists.
    writer.write(3000)
    os.rename(writer.path, writer.path + ".01")
    writer.write(40)
    writer.close()
    writer.open()
    writer.write(3000)


def late_writes(writer, old, rounds=20):
    """Lines to the renamed file and to the new one by turns, as a long SMTP
    session or a queue runner that opened the old file and fresh Exim
    processes writing at the same time."""
    for _ in range(rounds):
        writer.write(50, old)
        writer.write(50)


def logrotate(writer):
    """logrotate's default (create): mainlog -> mainlog.1 and a new empty
    mainlog at once. Returns the handle on the renamed file."""
    os.rename(writer.path, writer.path + ".1")
    old = writer.handle
    writer.open()
    return old


def exicyclog(writer):
    """mainlog.01 -> mainlog.02, mainlog -> mainlog.01; the next Exim process
    to write makes the new mainlog. Returns the handle on the renamed file."""
    if os.path.exists(writer.path + ".01"):
        os.replace(writer.path + ".01", writer.path + ".02")
    os.rename(writer.path, writer.path + ".01")
    old = writer.handle
    writer.open()
    return old


def rotate_and_move_on(band, writer, rotate, backlog):
    """`backlog` lines, `rotate`, 1000 lines to the new file, read by the
    daemon: it has moved to the new file. Returns the handle on the old one."""
    writer.write(backlog)
    old = rotate(writer)
    writer.write(1000)
    settle(band, writer)
    return old


def rename_and_create_with_late_writes(band, writer):
    old = rotate_and_move_on(band, writer, logrotate, 3000)
    late_writes(writer, old)
    old.close()


def exicyclog_with_late_writes(band, writer):
    first = rotate_and_move_on(band, writer, exicyclog, 3000)
    late_writes(writer, first)
    # Rotated again within the grace period: mainlog.01 becomes .02 and is
    # read to its end and let go; the new .01 is followed for late lines.
    second = rotate_and_move_on(band, writer, exicyclog, 0)
    first.close()
    late_writes(writer, second)
    second.close()


def killed_during_late_writes(band, writer):
    # kill -9 at random moments while both files are written, within the
    # grace period: the store holds both positions, a restart finds the old
    # file beside the path and reads its rest once.
    rng = random.Random(20261207)
    old = rotate_and_move_on(band, writer, logrotate, 2000)
    for _ in range(KILLS):
        killer = threading.Timer(rng.uniform(0, 0.05), lambda: band.process.send_signal(signal.SIGKILL))
        killer.start()
        late_writes(writer, old, rng.randrange(1, 40))
        killer.join()
        band.reap()
        band.start()
        writer.kills += 1
    late_writes(writer, old)
    old.close()


KILLS = 10


def copytruncate(band, writer):
    # logrotate's copytruncate: copy, then truncate the live file in place.
    writer.write(3000)
    shutil.copyfile(writer.path, writer.path + ".1")
    os.truncate(writer.path, 0)
    writer.write(3000)


def truncate_in_place(band, writer):
    # `: > mainlog`: what was not read before is gone, so wait for it first.
    writer.write(3000)
    settle(band, writer)
    os.truncate(writer.path, 0)
    writer.write(2000)


def delete_and_recreate(band, writer):
    writer.write(3000)
    writer.close()
    os.unlink(writer.path)
    writer.open()
    writer.write(3000)


def replaced_while_stopped(band, writer):
    writer.write(5000)
    band.stop()  # whatever it had not committed is read again
    os.rename(writer.path, writer.path + ".01")
    writer.close()
    writer.open()
    writer.write(2000)
    band.start()
    writer.write(1000)


def restarted(band, writer):
    for _ in range(3):
        writer.write(3000)
        band.stop()
        band.start()
    writer.write(100)


def partial_lines(band, writer):
    # A line written in two parts is one line; its first part alone is no hit.
    writer.write(10)
    line = failure_line("192.0.2.200")
    writer.handle.write(line[:30])
    writer.handle.flush()
    settle(band, writer)
    writer.handle.write(line[30:])
    writer.handle.flush()
    writer.written.append("192.0.2.200")
    writer.write(10)


SCENARIOS = [
    ("rename and create (exicyclog)", rename_and_create, {}),
    ("late writes after rename and create", rename_and_create_with_late_writes, {}),
    ("late writes after exicyclog, twice", exicyclog_with_late_writes, {}),
    ("late writes, kill -9 in the grace period", killed_during_late_writes, {}),
    ("copytruncate", copytruncate, {}),
    ("truncate in place", truncate_in_place, {}),
    ("delete and re-create", delete_and_recreate, {}),
    ("replaced while stopped", replaced_while_stopped, {}),
    ("restart at the committed offset", restarted, {}),
    ("a partial line completed later", partial_lines, {}),
    ("a log that does not exist at start", None, {"missing": True}),
    ("a directory that appears later", None, {"missing_dir": True}),
]


def run(band_binary, name, scenario, options):
    with tempfile.TemporaryDirectory(prefix="exim-band-rotation-") as tmp:
        logdir = os.path.join(tmp, "log")
        if not options.get("missing_dir"):
            os.mkdir(logdir)
        path = os.path.join(logdir, "mainlog")
        writer = Writer(path)
        writer.kills = 0
        band = Band(band_binary, tmp, [path])
        if options.get("missing") or options.get("missing_dir"):
            band.start()
            if options.get("missing_dir"):
                os.mkdir(logdir)
            writer.open()
            writer.write(3000)
        else:
            writer.open()
            writer.write(500)  # a backlog before the daemon starts
            band.start()
            scenario(band, writer)
        settle(band, writer)
        band.stop()
        stored = band.hits()
        problems = compare_hits(writer.written, stored)
        print("%-40s %6d lines (%5d late), %6d hits written, %6d stored, lost %d, doubled %d%s%s"
              % (name, writer.lines, writer.late, len(writer.written), len(stored),
                 max(0, len(writer.written) - len(stored)), max(0, len(stored) - len(writer.written)),
                 ", %d kill -9" % writer.kills if writer.kills else "",
                 "" if not problems else ": " + "; ".join(problems)))
        if problems:
            print(band.log()[-4000:])
        return not problems


def main():
    if len(sys.argv) != 2:
        print("usage: daemon-rotation-test BAND", file=sys.stderr)
        return 2
    failed = 0
    for name, scenario, options in SCENARIOS:
        try:
            ok = run(sys.argv[1], name, scenario, options)
        except Failure as error:
            print("%-40s FAIL: %s" % (name, error))
            ok = False
        failed += not ok
    print("daemon-rotation-test: %d of %d scenarios passed" % (len(SCENARIOS) - failed, len(SCENARIOS)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
