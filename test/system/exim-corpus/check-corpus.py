#!/usr/bin/env python3
"""check-corpus.py BANCTL DIR -- check exim-banctl's filters against a corpus.

DIR holds mainlog-A, mainlog-B and expect.json (written by run-corpus, or the
committed copy in test/data/exim-corpus). For each log and each mode in
(normal, more) this runs

    BANCTL test DIR/mainlog-X 'exim[mode=MODE]' --json

and compares the "hosts" it reports with expect.json, per log:
  - every attacker address is found exactly its expected number of times
    (expect.json "per_log"; a line listed under "ambiguous" may or may not be
    counted, see expect.json "notes");
  - no benign or victim address appears;
  - no address appears that expect.json does not list as an attacker.
Prints a table of mismatches and exits 1 if there is any; exits 2 if BANCTL
fails or prints no JSON object; 0 when everything matches.
"""

import ipaddress
import json
import os
import signal
import subprocess
import sys

LOGS = ("A", "B")
MODES = ("normal", "more")


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
    cmd = [banctl, "test", log, f"exim[mode={mode}]", "--json"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        sys.exit(f"check-corpus: {' '.join(cmd)}: {e}")
    if p.returncode != 0:
        sys.exit(f"check-corpus: {' '.join(cmd)} exited {p.returncode}\n{p.stderr}{p.stdout}")
    try:
        out = json.loads(p.stdout)
    except ValueError as e:
        sys.exit(f"check-corpus: {' '.join(cmd)} printed no JSON object ({e}):\n{p.stdout[:2000]}")
    if not isinstance(out, dict) or not isinstance(out.get("hosts"), dict):
        sys.exit(f"check-corpus: {' '.join(cmd)}: no \"hosts\" object in\n{p.stdout[:2000]}")
    return out


def lines_naming(path, addr, limit=4):
    """a few log lines that name addr, to show beside a mismatch"""
    forms = {addr}
    try:
        forms.add(ipaddress.ip_address(addr).exploded)
    except ValueError:
        pass
    shown = []
    with open(path, encoding="latin-1") as f:
        for line in f:
            if any(f"[{x}]" in line or f" {x} " in line for x in forms):
                shown.append(line.rstrip("\n"))
                if len(shown) >= limit:
                    break
    return shown


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    banctl, d = sys.argv[1], sys.argv[2]
    for name in ("expect.json",) + tuple(f"mainlog-{x}" for x in LOGS):
        if not os.path.isfile(os.path.join(d, name)):
            print(f"check-corpus: {d}/{name} is missing", file=sys.stderr)
            return 2
    with open(os.path.join(d, "expect.json")) as f:
        expect = json.load(f)
    notes = expect.pop("notes", [])
    hosts = {}
    for addr, e in expect.items():
        ca = canon(addr)
        if ca is None or ca != addr:
            print(f"check-corpus: expect.json key {addr!r} is not a canonical address", file=sys.stderr)
            return 2
        hosts[ca] = e

    rows = []  # (log, mode, address, role, expected, got, why)
    checks = 0
    for x in LOGS:
        log = os.path.join(d, f"mainlog-{x}")
        for mode in MODES:
            out = run_banctl(banctl, log, mode)
            got = {}
            for key, n in out["hosts"].items():
                ca = canon(key)
                if ca is None:
                    rows.append((x, mode, key, "?", "-", n, "not an IP address"))
                    continue
                got[ca] = got.get(ca, 0) + int(n)
            for addr, e in hosts.items():
                checks += 1
                n = got.pop(addr, 0)
                role = e["role"]
                if role == "attacker":
                    want = e.get("per_log", {}).get(x, {}).get(mode, 0)
                    slack = e.get("ambiguous", {}).get(x, {}).get(mode, 0)
                    if not want <= n <= want + slack:
                        shown = f"{want}" if not slack else f"{want}..{want + slack}"
                        why = "attacker missed" if n < want else "counted too often"
                        rows.append((x, mode, addr, role, shown, n, why))
                elif n:
                    rows.append((x, mode, addr, role, 0, n, f"{role} address counted"))
            for addr, n in sorted(got.items()):
                rows.append((x, mode, addr, "unknown", 0, n, "address not in expect.json"))

    if rows:
        print(f"check-corpus: {len(rows)} mismatch(es) in {d} (BANCTL {banctl})")
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
            for ln in lines_naming(os.path.join(d, f"mainlog-{x}"), addr):
                print(f"      {ln}")
        if notes:
            print("\nnotes from expect.json:")
            for n in notes:
                print(f"  - {n}")
        return 1
    attackers = sum(1 for e in hosts.values() if e["role"] == "attacker")
    print(f"check-corpus: {d}: all {checks} checks passed ({attackers} attackers, "
          f"{len(hosts) - attackers} benign/victim addresses, logs {'+'.join(LOGS)}, modes {'+'.join(MODES)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
