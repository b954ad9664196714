#!/usr/bin/env python3
"""daemon-rotation-test.py BAND -- the real exim-band follows a log through
every kind of rotation and restart, and stores each hit exactly once.

Each scenario writes Exim-shaped lines (a hit of a different address on
every hit line, benign lines between), rotates or restarts as named, waits
until the store holds as many hits as were written, stops the daemon with
SIGTERM (which must exit 0) and compares the stored hits with the written
ones address by address: 0 lost, 0 counted twice. The daemon runs with the
dry-run firewall: no root, no namespace needed."""

import os
import shutil
import sys
import tempfile

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
        self.handle = None

    def open(self):
        self.handle = open(self.path, "a", buffering=1)

    def write(self, count, handle=None):
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
        print("%-40s %6d lines, %6d hits written, %6d stored%s"
              % (name, writer.lines, len(writer.written), len(stored),
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
