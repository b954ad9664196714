#!/usr/bin/env python3
"""check-corpus.py BANCTL DIR -- check exim-banctl's dovecot filter against a corpus.

DIR holds quiet.log, verbose.log, anychars.log, syslog.log, truth.json and
expect.json
(written by run-corpus, or the committed copy in test/data/dovecot-corpus).
For each log and each mode in (normal, aggressive) this runs

    BANCTL test DIR/LOG.log 'dovecot[mode=MODE]' --json

and compares the "hosts" it reports with expect.json, per log:
  - every bot's and phone's address is counted exactly its expected number
    of times (one per failed attempt, whether auth_verbose writes it on one
    line or two; aggressive adds one per session left before any auth);
  - no honest user's address, no planted victim address and no server
    address appears;
  - no address appears that expect.json does not list.
Prints the version's table (expect.json "dovecot"): per client the expected
and counted hits in each mode and log; the honest and victim addresses named
(must be 0). Then a table of mismatches with the log lines behind them, and
exits 1 if there is any; exits 2 if BANCTL fails or prints no JSON object; 0
when everything matches.

DOVECOT_CORPUS_FILTERS_DIR=DIR makes BANCTL read the filter from DIR
(--filters-dir), to try a filter that is not the shipped one.
"""

import ipaddress
import json
import os
import signal
import subprocess
import sys

LOGS = ("quiet", "verbose", "anychars", "syslog")
MODES = ("normal", "aggressive")
COUNTED_ROLES = ("bot", "phone")  # the filter counts their failures (trust is not its business)


def canon(text):
    """RFC 5952 text of an address (IPv4-mapped shown as IPv4), or None"""
    try:
        a = ipaddress.ip_address(text)
    except ValueError:
        return None
    if a.version == 6 and a.ipv4_mapped is not None:
        a = a.ipv4_mapped
    return a.compressed


def run_banctl(banctl, log, mode):
    cmd = [banctl, "test", log, f"dovecot[mode={mode}]", "--json"]
    if os.environ.get("DOVECOT_CORPUS_FILTERS_DIR"):
        cmd += ["--filters-dir", os.environ["DOVECOT_CORPUS_FILTERS_DIR"]]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        sys.exit(f"check-corpus: {' '.join(cmd)}: {e}")
    if p.returncode != 0:
        print(f"check-corpus: {' '.join(cmd)} exited {p.returncode}\n{p.stderr}{p.stdout}", file=sys.stderr)
        sys.exit(2)
    try:
        out = json.loads(p.stdout)
    except ValueError as e:
        print(f"check-corpus: {' '.join(cmd)} printed no JSON object ({e}):\n{p.stdout[:2000]}", file=sys.stderr)
        sys.exit(2)
    if not isinstance(out, dict) or not isinstance(out.get("hosts"), dict):
        print(f"check-corpus: {' '.join(cmd)}: no \"hosts\" object in\n{p.stdout[:2000]}", file=sys.stderr)
        sys.exit(2)
    return out


def lines_naming(path, addr, limit=12):
    """the log lines that name addr (as rip=, or in an auth prefix), to show
    beside a mismatch"""
    shown = []
    with open(path, encoding="latin-1") as f:
        for line in f:
            if f"rip={addr}," in line or f",{addr}," in line or f"({addr}," in line:
                shown.append(line.rstrip("\n"))
                if len(shown) >= limit:
                    break
    return shown


def print_table(d, version, hosts, got):
    print(f"\n== Dovecot {version or '?'}: {d}")
    hdr = ("address", "role")
    for mode in MODES:
        for x in LOGS:
            hdr += (f"{mode[:4]} {x}",)
    hdr += ("what",)
    rows = []
    for addr, e in hosts.items():
        if e["role"] in ("victim", "server"):
            continue
        cells = []
        for mode in MODES:
            for x in LOGS:
                want = e.get("per_log", {}).get(x, {}).get(mode, 0)
                n = got[x][mode].get(addr, 0)
                cells.append(f"{want}/{n}" if want == n else f"{want}/{n}!")
        rows.append((addr, e["role"], *cells, e.get("what", "")))
    w = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr) - 1)]
    fmt = "  ".join(f"{{:{n}}}" for n in w) + "  {}"
    print("(cells: expected/counted, '!' marks a mismatch)")
    print(fmt.format(*hdr))
    for r in rows:
        print(fmt.format(*r))
    for role in ("honest", "victim", "server"):
        total = sum(1 for e in hosts.values() if e["role"] == role)
        named = {m: sum(got[x][m].get(a, 0) for x in LOGS for a, e in hosts.items() if e["role"] == role)
                 for m in MODES}
        print(f"{role} addresses named: normal {named['normal']}, aggressive {named['aggressive']} "
              f"(of {total}, must be 0)")


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    banctl, d = sys.argv[1], sys.argv[2]
    for name in ("expect.json",) + tuple(f"{x}.log" for x in LOGS):
        if not os.path.isfile(os.path.join(d, name)):
            print(f"check-corpus: {d}/{name} is missing", file=sys.stderr)
            return 2
    with open(os.path.join(d, "expect.json")) as f:
        expect = json.load(f)
    version = expect.pop("dovecot", None)
    hosts = {}
    for addr, e in expect.items():
        if canon(addr) != addr:
            print(f"check-corpus: expect.json key {addr!r} is not a canonical address", file=sys.stderr)
            return 2
        hosts[addr] = e

    rows = []  # (log, mode, address, role, expected, got, why)
    checks = 0
    got = {x: {} for x in LOGS}
    for x in LOGS:
        log = os.path.join(d, f"{x}.log")
        for mode in MODES:
            out = run_banctl(banctl, log, mode)
            counted = got[x][mode] = {}
            for key, n in out["hosts"].items():
                ca = canon(key)
                if ca is None:
                    rows.append((x, mode, key, "?", "-", n, "not an IP address"))
                    continue
                counted[ca] = counted.get(ca, 0) + int(n)
            for addr, e in hosts.items():
                checks += 1
                n = counted.get(addr, 0)
                want = e.get("per_log", {}).get(x, {}).get(mode, 0) if e["role"] in COUNTED_ROLES else 0
                if n != want:
                    why = ("missed" if n < want else "counted too often") if want else f"{e['role']} address counted"
                    rows.append((x, mode, addr, e["role"], want, n, why))
            for addr, n in sorted(counted.items()):
                if addr not in hosts:
                    rows.append((x, mode, addr, "unknown", 0, n, "address not in expect.json"))

    print_table(d, version, hosts, got)
    if rows:
        print(f"\ncheck-corpus: {len(rows)} mismatch(es) in {d} (BANCTL {banctl})")
        hdr = ("log", "mode", "address", "role", "expected", "got", "why")
        w = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr))]
        fmt = "  ".join(f"{{:{n}}}" for n in w)
        print(fmt.format(*hdr))
        for r in rows:
            print(fmt.format(*map(str, r)))
        print("\nlog lines naming the addresses above:")
        seen = set()
        for x, _, addr, *_ in rows:
            if (x, addr) in seen:
                continue
            seen.add((x, addr))
            what = hosts.get(addr, {}).get("what", "")
            print(f"  [{x}] {addr} {('(' + what + ')') if what else ''}")
            for ln in lines_naming(os.path.join(d, f"{x}.log"), addr):
                print(f"      {ln}")
        return 1
    counted_hosts = sum(1 for e in hosts.values() if e["role"] in COUNTED_ROLES)
    print(f"check-corpus: {d}: all {checks} checks passed ({counted_hosts} bots and phones, "
          f"{len(hosts) - counted_hosts} honest/victim/server addresses, logs {'+'.join(LOGS)}, "
          f"modes {'+'.join(MODES)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
