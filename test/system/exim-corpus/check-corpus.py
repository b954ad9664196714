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
Prints the version's table (expect.json "exim"): per client the expected and
counted hits in each mode, summed over both logs; the victim and benign
addresses named (must be 0); the ambiguous lines and why (expect.json
"notes"). Then a table of mismatches, and exits 1 if there is any; exits 2
if BANCTL fails or prints no JSON object; 0 when everything matches.
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


def ambiguous_lines(d, hosts, amb):
    """per (log, address) in amb the lines of the kinds a client may declare
    ambiguous, as corpus.py's reference classifier finds them"""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import corpus  # noqa: E402 -- beside this script; only when a corpus has ambiguous lines
    servers = {canon(a) for s in corpus.SERVER.values() for a in s.values()}
    clients = [a for a, e in hosts.items() if e["role"] != "victim" and a not in servers]
    shown = {}
    for x in LOGS:
        with open(os.path.join(d, f"mainlog-{x}"), encoding="latin-1") as f:
            per, _ = corpus.classify(f.read().splitlines(), clients)
        for addr, logs in amb.items():
            if x in logs:
                # the ambiguous ones: a forged address beside the real one
                shown[(x, addr)] = [ln for k, ln in per.get(addr, [])
                                    if k in AMBIGUOUS_KINDS and corpus.addresses_in(ln) - servers - {addr}]
    return shown


def print_table(d, version, hosts, got, notes):
    """per client: expected and counted hits in each mode (both logs), the
    victims and benign addresses named, the ambiguous lines and why"""
    print(f"\n== Exim {version or '?'}: {d}")
    hdr = ("address", "role", "normal exp", "got", "more exp", "got", "", "what")
    rows = []
    for addr, e in hosts.items():
        cells = []
        bad = False
        for mode in MODES:
            want = sum(e.get("per_log", {}).get(x, {}).get(mode, 0) for x in LOGS)
            slack = sum(e.get("ambiguous", {}).get(x, {}).get(mode, 0) for x in LOGS)
            n = sum(got[x][mode].get(addr, 0) for x in LOGS)
            cells += [f"{want}..{want + slack}" if slack else str(want), str(n)]
            bad = bad or not want <= n <= want + slack
        if e["role"] != "attacker" and cells == ["0", "0", "0", "0"]:
            continue
        rows.append((addr, e["role"], *cells, "MISMATCH" if bad else "", e.get("what", "")))
    w = [max(len(str(r[i])) for r in rows + [hdr]) for i in range(len(hdr) - 1)]
    fmt = "  ".join(f"{{:{n}}}" for n in w) + "  {}"
    print(fmt.format(*hdr))
    for r in rows:
        print(fmt.format(*r))
    for role in ("victim", "benign"):
        named = {m: sum(got[x][m].get(a, 0) for x in LOGS for a, e in hosts.items() if e["role"] == role)
                 for m in MODES}
        total = sum(1 for e in hosts.values() if e["role"] == role)
        print(f"{role} addresses named: normal {named['normal']}, more {named['more']} "
              f"(of {total}, must be 0)")
    amb = {a: e["ambiguous"] for a, e in hosts.items() if e.get("ambiguous")}
    if not amb:
        return
    print("ambiguous lines (client text on both sides of the real address; may count or not, "
          "never for another address):")
    try:
        lines = ambiguous_lines(d, hosts, amb)
    except (ImportError, SystemExit) as e:
        lines = {}
        print(f"  (lines not shown: {e})")
    for addr in amb:
        for x in amb[addr]:
            counted = {m: got[x][m].get(addr, 0) for m in MODES}
            print(f"  [{x}] {addr}: counted normal {counted['normal']}, more {counted['more']}")
            for n in notes:
                if n.startswith(addr + ":"):
                    print(f"      why: {n[len(addr) + 2:]}")
            for ln in lines.get((x, addr), []):
                print(f"      {ln}")


# the kinds a corpus client may declare ambiguous (corpus.py's maybe())
AMBIGUOUS_KINDS = ("auth535", "sync", "dropped", "syntax", "helo_invalid")


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
    version = expect.pop("exim", None)
    hosts = {}
    for addr, e in expect.items():
        ca = canon(addr)
        if ca is None or ca != addr:
            print(f"check-corpus: expect.json key {addr!r} is not a canonical address", file=sys.stderr)
            return 2
        hosts[ca] = e

    rows = []  # (log, mode, address, role, expected, got, why)
    checks = 0
    got = {x: {} for x in LOGS}
    for x in LOGS:
        log = os.path.join(d, f"mainlog-{x}")
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
            for addr, n in sorted(counted.items()):
                if addr not in hosts:
                    rows.append((x, mode, addr, "unknown", 0, n, "address not in expect.json"))

    print_table(d, version, hosts, got, notes)
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
            for ln in lines_naming(os.path.join(d, f"mainlog-{x}"), addr, limit=12):
                print(f"      {ln}")
        return 1
    attackers = sum(1 for e in hosts.values() if e["role"] == "attacker")
    print(f"check-corpus: {d}: all {checks} checks passed ({attackers} attackers, "
          f"{len(hosts) - attackers} benign/victim addresses, logs {'+'.join(LOGS)}, modes {'+'.join(MODES)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
