#!/usr/bin/env python3
"""check-injection.py BANCTL [CORPUS_DIR] -- every line of the injection corpus
(test/data/injection, see its README.md; with CORPUS_DIR that one, and the
corpus's minimum of 200 lines is not asserted) through `BANCTL test --json --bans`
with a jail per shipped filter mode (exim normal, more, aggressive;
exim-spam; dovecot normal, aggressive) and maxretry 1, so that every hit
is also a ban.

Asserts, per mode: no hit and no ban of any address in the victims' ranges
or of any address the corpus does not name; each line whose annotation says
it is an attack of its connecting host in this mode gives exactly that host
its count= of hits (failed attempts; 1 unless it says) and one ban (the
corpus also proves that the filters still work),
and every other line gives none. Prints the counts per technique and one
PASS line; exits 1 on a failure (each named with its file:line), 2 when
BANCTL or the corpus is unusable. Needs no root.
"""

import collections
import json
import os
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import injection_corpus as corpus  # noqa: E402

FILTERS = os.path.normpath(os.path.join(corpus.DATA, "..", "..", "..", "filters"))
JAILS = {"normal": "exim[mode=normal]", "more": "exim[mode=more]",
         "aggressive": "exim[mode=aggressive]", "spam": r"exim-spam[honeypot=trap@example\.com]",
         "dovecot_normal": "dovecot[mode=normal]", "dovecot_aggressive": "dovecot[mode=aggressive]"}


def write_config(work, log):
    os.symlink(FILTERS, os.path.join(work, "filters.d"))
    path = os.path.join(work, "exim-ban.conf")
    with open(path, "w") as f:
        f.write("[DEFAULT]\nignoreip = 127.0.0.0/8 ::1\nignoreself = false\nmaxretry = 1\n"
                "findtime = 10m\nbantime = 1h\nbantime.increment = false\n"
                "database = %s\nsocket = %s\n" % (os.path.join(work, "db"), os.path.join(work, "sock")))
        for mode, spec in JAILS.items():
            f.write("\n[%s]\nenabled = true\nlogpath = %s\nfilter = %s\n" % (mode, log, spec))
    return path


def scan(banctl, log, config, mode):
    argv = [banctl, "test", log, "--json", "--bans", "--jail", mode, "--config", config]
    p = subprocess.run(argv, capture_output=True, timeout=120)
    if p.returncode != 0:
        sys.exit("check-injection: %s exited %d: %s" % (" ".join(argv), p.returncode,
                                                        p.stderr.decode(errors="replace")[-2000:]))
    try:
        return json.loads(p.stdout)
    except ValueError as e:
        sys.exit("check-injection: %s printed no JSON (%s)" % (" ".join(argv), e))


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    banctl = sys.argv[1]
    started = time.monotonic()
    try:
        entries = corpus.load(sys.argv[2] if len(sys.argv) == 3 else corpus.DATA)
    except corpus.CorpusError as e:
        print("check-injection: corpus: %s" % e, file=sys.stderr)
        return 2
    failures = []
    # technique -> counters
    table = collections.defaultdict(collections.Counter)
    victim_hits = victim_bans = 0
    with tempfile.TemporaryDirectory(prefix="check-injection.") as work:
        log = os.path.join(work, "corpus.log")
        with open(log, "wb") as f:
            f.write(b"".join(e.line + b"\n" for e in entries))
        config = write_config(work, log)
        for mode in corpus.MODES:
            out = scan(banctl, log, config, mode)
            if out.get("lines") != len(entries):
                failures.append("[%s] %s lines read, the corpus has %d" % (mode, out.get("lines"), len(entries)))
            hosts = {corpus.canon(h): n for h, n in out["hosts"].items()}
            bans = collections.Counter(b["host"] for b in out["bans"])
            for e in entries:
                want_ban = 1 if mode in e.modes else 0
                want = e.count * want_ban
                got = hosts.pop(e.host, 0)
                banned = bans.pop(corpus.key_of(e.host), 0)
                table[e.technique]["want"] += want
                table[e.technique]["hits"] += got
                table[e.technique]["bans"] += banned
                if got != want or banned != want_ban:
                    failures.append("[%s] %s (%s): %s hit(s) and %s ban(s) of %s, want %d and %d"
                                    % (mode, e.where, e.note, got, banned, e.host, want, want_ban))
            for h, n in sorted(hosts.items()):
                e = next((x for x in entries if x.victim == h), None)
                if corpus.in_ranges(h, corpus.VICTIMS):
                    victim_hits += n
                    if e:
                        table[e.technique]["victim"] += n
                failures.append("[%s] %d hit(s) of %s, %s%s" % (
                    mode, n, h, "a VICTIM" if corpus.in_ranges(h, corpus.VICTIMS) else "an address of no line",
                    (", planted at %s (%s)" % (e.where, e.note)) if e else ""))
            for key, n in sorted(bans.items()):
                if corpus.in_ranges(key, corpus.VICTIMS):
                    victim_bans += n
                failures.append("[%s] %d ban(s) of %s%s" % (
                    mode, n, key, ", a VICTIM" if corpus.in_ranges(key, corpus.VICTIMS) else ""))

    techniques = collections.Counter(e.technique for e in entries)
    w = max(len(t) for t in techniques)
    print("check-injection: %-*s %5s %6s %5s %5s %7s" % (w, "technique", "lines", "expect", "hits", "bans", "victims"))
    for t in sorted(techniques):
        c = table[t]
        print("check-injection: %-*s %5d %6d %5d %5d %7d" % (w, t, techniques[t], c["want"], c["hits"], c["bans"], c["victim"]))
    for f in failures:
        print("check-injection: FAIL: %s" % f)
    want = sum(c["want"] for c in table.values())
    hits = sum(c["hits"] for c in table.values())
    bans = sum(c["bans"] for c in table.values())
    summary = ("%d lines in %d techniques x %d modes, attack hits %d/%d, bans %d, victim hits %d, "
               "victim bans %d, %.1f s" % (len(entries), len(techniques), len(corpus.MODES), hits, want, bans,
                                           victim_hits, victim_bans, time.monotonic() - started))
    if failures:
        print("check-injection: FAIL (%d): %s" % (len(failures), summary))
        return 1
    if len(sys.argv) == 2 and len(entries) < 200:
        print("check-injection: FAIL: only %d lines (the corpus must keep >= 200)" % len(entries))
        return 1
    print("check-injection: PASS: %s" % summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
