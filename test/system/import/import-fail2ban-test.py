#!/usr/bin/env python3
"""exim-banctl import-fail2ban on the database a real fail2ban 1.0.2 wrote.

usage: import-fail2ban-test EXIM_BANCTL EXIM_BAND

The fixture (test/data/fail2ban-db, made by its make-db) is Debian's
fail2ban 1.0.2 after a run of its [exim] jail: fail2ban.sqlite3 and the jail
files it read (stock jail.conf and paths-*.conf, the jail.local it ran
with). Its timeofban values are absolute epoch seconds from the day make-db
ran, so by now every ban in it has ended. The test imports from a copy whose
times are all moved by the same amount, so that the newest ban was made a
minute ago: the bans keep their order, lengths and gaps, and those that were
current when fail2ban stopped are current again.

Checks, on a temporary exim-ban configuration and database:
  --dry-run prints the file and the bans and creates neither;
  the import writes conf.d/50-fail2ban.conf, which check-config accepts, and
  stores the current bans (origin import, reason fail2ban) with their
  remaining time and the earlier bans that escalation counts;
  a second import is refused without --force and adds nothing with it;
  exim-band (--dry-run) restores the bans: asked to reload by the import
  when it runs (as root), and when it starts; exim-banctl list shows them.
Prints the figures: bans imported and the time taken.
"""

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from failure import Failure, check  # noqa: E402
from band_harness import Band  # noqa: E402

FIXTURE = os.path.normpath(os.path.join(HERE, "..", "..", "data", "fail2ban-db"))

# What make-db's run leaves in the jail [exim] (see its README.md), and what
# exim-ban makes of it with 198.51.100.0/24 on its own ignoreip.
CURRENT = {"203.0.113.10", "203.0.113.20", "203.0.113.40", "2001:db8:1:2::/64", "2001:db8:9::/64"}
ROWS = {  # every row per key: the current ban and the earlier ones
    "203.0.113.10": 1,
    "203.0.113.20": 2,  # banned for 4 s, then again for 2 h (bancount 2)
    "203.0.113.30": 1,  # banned for 4 s: expired, history only
    "203.0.113.40": 1,  # permanent: bantime.maxtime (1w) from the import
    "2001:db8:1:2::/64": 2,  # two addresses of one /64
    "2001:db8:9::/64": 1,
}
SUMMARY = ("imported 5 current bans (3 IPv4, 2 IPv6 /64), 3 history rows, "
           "skipped 4 (1 expired, 1 ignored, 1 loopback, 1 same /64)")


def run(argv, want=0):
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != want:
        raise Failure("%s exited %d, not %d:\n%s%s" % (" ".join(argv), result.returncode, want,
                                                     result.stdout, result.stderr))
    return result


def shifted_copy(source, target):
    """Copies fail2ban's database with every timeofban moved so that the
    newest ban is a minute old; returns the shift in seconds."""
    shutil.copy(source, target)
    with sqlite3.connect(target) as db:
        newest = db.execute("SELECT max(timeofban) FROM bips").fetchone()[0]
        shift = int(time.time()) - 60 - newest
        for table in ("bips", "bans"):
            db.execute("UPDATE %s SET timeofban = timeofban + ?" % table, (shift,))
    return shift


def stored_bans(database):
    with sqlite3.connect("file:%s?mode=ro" % database, uri=True) as db:
        return db.execute("SELECT jail, key, start, expires, lifted, reason, origin FROM bans "
                          "ORDER BY key, start").fetchall()


def main():
    banctl, band = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="import-fail2ban-test.")
    try:
        test(banctl, band, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test(banctl, band_binary, work):
    fail2ban_db = os.path.join(work, "fail2ban.sqlite3")
    shift = shifted_copy(os.path.join(FIXTURE, "fail2ban.sqlite3"), fail2ban_db)
    print("fixture times moved by %d s (%.1f days)" % (shift, shift / 86400))

    band = Band(band_binary, work, [os.path.join(work, "mainlog")],
                extra="ignoreip = 127.0.0.0/8 ::1 198.51.100.0/24")
    # The import writes fail2ban's logpath (/var/log/exim4/mainlog); a later
    # conf.d file keeps this test on its own log.
    os.mkdir(os.path.join(work, "conf.d"))
    with open(os.path.join(work, "conf.d", "60-test.conf"), "w") as f:
        f.write("[exim]\nlogpath = %s\n" % os.path.join(work, "mainlog"))
    conf_file = os.path.join(work, "conf.d", "50-fail2ban.conf")
    command = [banctl, "import-fail2ban", fail2ban_db,
               "--jail-conf", os.path.join(FIXTURE, "jail.conf"), "--config", band.config]

    # --dry-run: everything shown, nothing made.
    dry = run(command + ["--dry-run"])
    print("--- exim-banctl import-fail2ban --dry-run:\n" + dry.stdout + dry.stderr + "---")
    check("dry run, nothing changed: would have " + SUMMARY in dry.stdout, "dry-run summary")
    check("(would be written)\n# Imported from fail2ban" in dry.stdout, "dry-run file")
    check(not os.path.exists(conf_file), "the dry run wrote " + conf_file)
    check(not os.path.exists(band.database), "the dry run made " + band.database)

    # The import, with exim-band running when it can be asked to reload.
    as_root = os.geteuid() == 0
    if as_root:
        band.start()
    imported = run(command)
    print("--- exim-banctl import-fail2ban:\n" + imported.stdout + imported.stderr + "---")
    figures = re.search(r"^(imported .*) in ([0-9.]+) s$", imported.stdout, re.M)
    check(figures and figures.group(1) == SUMMARY, "summary: " + imported.stdout)
    if as_root:
        check("exim-band reloaded" in imported.stdout, "no reload: " + imported.stdout)
    else:
        check("the bans take effect when it starts" in imported.stdout, imported.stdout)

    checked = run([banctl, "check-config", "--config", band.config])
    for line in ("bantime.maxtime = 1w", "bantime.increment = true", "ports = 25,465,587",
                 "maxretry = 3", "findtime = 10m"):
        check(re.search(r"^%s +; %s:\d+$" % (re.escape(line), re.escape(conf_file)),
                        checked.stdout, re.M), "check-config: %s from %s" % (line, conf_file))

    now = time.time()
    rows = stored_bans(band.database)
    per_key = {}
    for jail, key, start, expires, lifted, reason, origin in rows:
        check((jail, lifted, reason, origin) == ("exim", None, "fail2ban", "import"),
              "row %r" % ((jail, key, start, expires, lifted, reason, origin),))
        per_key.setdefault(key, []).append((start, expires))
    check({k: len(v) for k, v in per_key.items()} == ROWS, "rows per key: %r" % per_key)
    current = {k for k, v in per_key.items() if any(e > now for _, e in v)}
    check(current == CURRENT, "current bans: %r" % sorted(current))
    remaining = {k: max(e for _, e in v) - now for k, v in per_key.items() if k in CURRENT}
    check(3400 < remaining["203.0.113.10"] <= 3540, "1h ban, 1 min old: %r" % remaining)
    check(7000 < remaining["203.0.113.20"] <= 7140, "second ban 2h: %r" % remaining)
    check(abs(remaining["203.0.113.40"] - 7 * 86400) < 120, "permanent -> 1w: %r" % remaining)

    again = run(command, want=1)
    check("--force replaces it" in again.stderr, again.stderr)
    forced = run(command + ["--force"])
    check("imported 0 current bans (0 IPv4, 0 IPv6 /64), 0 history rows, skipped 9 "
          "(5 already imported, 1 expired, 1 ignored, 1 loopback, 1 same /64)" in forced.stdout,
          forced.stdout)
    check(stored_bans(band.database) == rows, "the forced import changed the bans")

    # exim-band restores them when it starts (and, as root, after the
    # import's reload).
    if as_root:
        check(re.search(r"dry run: reconcile would add 5,", band.log()),
              "no reconcile after the reload:\n" + band.log()[-3000:])
        band.stop()
    band.start()
    restored = re.findall(r"jail \[exim\]: (\d+) key\(s\) and \d+ recent hit\(s\) restored",
                          band.log())
    check(restored and int(restored[-1]) == len(ROWS), "restored keys: %r" % restored)
    listed = json.loads(run([banctl, "list", "--json", "--config", band.config]).stdout)
    keys = sorted(ban["key"] for ban in listed["bans"])
    check(set(keys) == CURRENT, "list: %r" % keys)
    band.stop()
    print("exim-band restored %s key(s); list shows %d active ban(s): %s"
          % (restored[-1], len(keys), " ".join(keys)))
    print("import-fail2ban: %s in %s s (%d rows stored)" % (figures.group(1), figures.group(2),
                                                            len(rows)))


if __name__ == "__main__":
    try:
        main()
    except Failure as failure:
        print("FAIL: %s" % failure)
        sys.exit(1)
    print("PASS")
