#!/usr/bin/env python3
"""syslog_check: the checks of exim-syslog-test.sh on one corpus that a real
Exim wrote both to its mainlogs and through rsyslog.

  syslog_check.py scan BANCTL WORK
      `BANCTL test --json` on WORK/corpus/mainlog-A and -B (summed) and on
      each syslog file (WORK/syslog-traditional, WORK/syslog-rfc3339), with
      the exim filter in modes normal and more: every file gives the same
      hosts with the same counts; each syslog file joined split entries
      (split_parts > 0) and dropped none; the long-entry guesser is counted,
      no victim ever.
  syslog_check.py bans BAND BANCTL WORK ROUTE
      (inside a network namespace of its own) exim-band with nftables on
      ROUTE's logs (mainlog: both mainlogs; traditional, rfc3339: the syslog
      file), a jail per mode, maxretry 3; once it has committed every byte
      and the kernel holds its bans, writes WORK/bans-ROUTE.json.
  syslog_check.py same-bans WORK ROUTE...
      every ROUTE banned the same keys in the same jails, and some.
"""

import collections
import json
import os
import sqlite3
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
import band_harness  # noqa: E402
from command_line import exit_with, run_subcommand  # noqa: E402
from failure import Failure  # noqa: E402
from say import sayer  # noqa: E402

say = sayer("exim-syslog")
MODES = ("normal", "more")
GUESSER = "10.99.2.1"  # long_entries.py's
VICTIMS = ("10.99.9.", "fd00:99:9:")  # the corpus's: they never connect
SYSLOG_FILES = ("syslog-traditional", "syslog-rfc3339")


def routes(work):
    corpus = os.path.join(work, "corpus")
    return {"mainlog": [os.path.join(corpus, "mainlog-A"), os.path.join(corpus, "mainlog-B")],
            "traditional": [os.path.join(work, "syslog-traditional")],
            "rfc3339": [os.path.join(work, "syslog-rfc3339")]}


def scan(banctl, log, mode):
    p = subprocess.run([banctl, "test", log, "exim[mode=%s]" % mode, "--json"],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise Failure("%s test %s exited %d: %s" % (banctl, log, p.returncode, p.stderr.strip()))
    return json.loads(p.stdout)


def main_scan(banctl, work):
    problems = []
    for mode in MODES:
        results = {}
        for route, logs in routes(work).items():
            reports = [scan(banctl, log, mode) for log in logs]
            hosts = collections.Counter()
            for report in reports:
                hosts.update(report["hosts"])
            results[route] = (hosts, reports)
            say("%-6s %-11s lines %5d, matched %4d, hosts %3d, split parts %2d, dropped %d" % (
                mode, route, sum(r["lines"] for r in reports), sum(r["matched"] for r in reports),
                len(hosts), sum(r.get("split_parts", 0) for r in reports),
                sum(r.get("dropped_parts", 0) for r in reports)))
        want = results["mainlog"][0]
        victims = [h for route in results for h in results[route][0] if h.startswith(VICTIMS)]
        if victims:
            problems.append("%s: victims counted: %s" % (mode, victims))
        if not want.get(GUESSER):
            problems.append("%s: the long-entry guesser %s has no hit in the mainlogs" % (mode, GUESSER))
        for route in ("traditional", "rfc3339"):
            hosts, (report,) = results[route]
            if hosts != want:
                keys = sorted(set(hosts) | set(want))
                differ = ["%s mainlog %d %s %d" % (k, want.get(k, 0), route, hosts.get(k, 0))
                          for k in keys if want.get(k, 0) != hosts.get(k, 0)]
                problems.append("%s: %s gives other hosts than the mainlogs: %s" % (mode, route, differ))
            if report.get("split_parts", 0) == 0:
                problems.append("%s: %s has no split entry (the long ones should be)" % (mode, route))
            if report.get("dropped_parts", 0) != 0:
                problems.append("%s: %s dropped %d parts" % (mode, route, report["dropped_parts"]))
    if problems:
        raise Failure("%d problem(s):\n  %s" % (len(problems), "\n  ".join(problems)))
    say("PASS: the same hosts and counts from the mainlogs and from both syslog files, both modes")


def committed(database):
    try:
        with sqlite3.connect("file:%s?mode=ro" % database, uri=True, timeout=5) as db:
            return sum(r[0] for r in db.execute("SELECT offset FROM files"))
    except sqlite3.OperationalError:
        return 0  # no store yet


def stored_bans(database):
    with sqlite3.connect("file:%s?mode=ro" % database, uri=True, timeout=5) as db:
        return db.execute("SELECT COUNT(*) FROM (SELECT DISTINCT jail, key FROM bans)").fetchone()[0]


def kernel_bans(banctl):
    p = subprocess.run([banctl, "nft-list", "--json"], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise Failure("exim-banctl nft-list --json exited %d: %s" % (p.returncode, p.stderr.strip()))
    return sorted((e["jail"], e["element"]) for e in json.loads(p.stdout).get("elements", []))


def main_bans(band, banctl, work, route):
    logs = routes(work)[route]
    directory = os.path.join(work, "band-" + route)
    os.mkdir(directory)
    jails = "\n[more]\nenabled = true\nlogpath = %s\nfilter = exim[mode=more]\nmaxretry = 3\n" % " ".join(logs)
    daemon = band_harness.Band(band, directory, logs, extra="findtime = 1d\nbantime.increment = false\n",
                               jail_extra=jails)
    size = sum(os.path.getsize(log) for log in logs)
    daemon.start(dry_run=False)
    try:
        band_harness.wait_for("exim-band to commit %d bytes of %s" % (size, route),
                              lambda: committed(daemon.database) >= size, timeout=30)
        band_harness.wait_for("the kernel to hold the store's bans",
                              lambda: len(kernel_bans(banctl)) >= stored_bans(daemon.database), timeout=30)
        bans = kernel_bans(banctl)
    finally:
        daemon.stop()
    with open(os.path.join(work, "bans-%s.json" % route), "w") as f:
        json.dump(bans, f)
    say("%-11s %d bans: %s" % (route, len(bans), ", ".join("%s %s" % b for b in bans)))


def main_same_bans(args):
    work, names = args[0], args[1:]
    bans = {}
    for name in names:
        with open(os.path.join(work, "bans-%s.json" % name)) as f:
            bans[name] = [tuple(b) for b in json.load(f)]
    first = names[0]
    problems = ["%s banned %s, %s banned %s" % (first, bans[first], n, bans[n])
                for n in names[1:] if bans[n] != bans[first]]
    if not bans[first]:
        problems.append("no bans at all")
    if problems:
        raise Failure("\n  ".join(problems))
    say("PASS: exim-band bans the same %d keys from %s" % (len(bans[first]), ", ".join(names)))


if __name__ == "__main__":
    exit_with(lambda: run_subcommand({"scan": (main_scan, 2), "bans": (main_bans, 4),
                                      "same-bans": (main_same_bans, None)}, __doc__), say)
