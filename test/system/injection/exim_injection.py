#!/usr/bin/env python3
"""exim_injection.py -- the clients and the checks of exim-injection-test.

  exim_injection.py addresses        the client addresses, one a line
  exim_injection.py drive WORK NS    (in the server namespace) every crafted
                                     session, each from its own address in
                                     client namespace NS, with an identd
                                     there; writes WORK/sessions.json
  exim_injection.py check WORK BAND BANCTL
                                     (in the server namespace) exim-band with
                                     its nftables backend, a jail per exim
                                     mode and maxretry 1, reads the finished
                                     mainlog; asserts on the kernel's sets

Addresses: the server 192.0.2.1 and 2001:db8:5e::1; the clients 203.0.113.N
and 2001:db8:bad:N::1 (N from 10); the planted victims 198.51.100.N and
2001:db8:f00d::N, which never connect.
"""

import base64
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "support"))
sys.path.insert(0, HERE)
import band_harness  # noqa: E402
from command_line import run_subcommand  # noqa: E402
from failure import Failure  # noqa: E402
import injection_corpus as corpus  # noqa: E402
from smtp_client import Conversation, Netns  # noqa: E402
from say import sayer  # noqa: E402
from test_run import run_test  # noqa: E402

SERVER = {4: "192.0.2.1", 6: "2001:db8:5e::1"}
STAMP = "2026-11-23 10:00:00"
MODES = ("normal", "more", "aggressive")
JAIL = {"normal": "exim", "more": "more", "aggressive": "aggressive"}


def b64(command, text):
    """A step that sends COMMAND followed by TEXT in base64 (the victim
    filled in first)."""
    return ("b64", command, text)


class Session:
    """One crafted SMTP session: `steps` are commands (a reply is read after
    each), ("b64", COMMAND, TEXT) for COMMAND and TEXT in base64, ("early",
    TEXT) sent before the greeting, or ("burst", TEXT) sent in one write. `hit` as in the corpus: the modes
    whose jail must ban the client; `planted` the client text that names the
    victim (let through when the mainlog shows it)."""

    def __init__(self, name, port, steps, hit, planted, ident=None, v6=False, strict=False):
        self.name, self.port, self.steps, self.hit = name, port, steps, hit
        self.planted, self.ident, self.v6, self.strict = planted, ident, v6, strict


def sessions():
    v = "198.51.100.%d"
    out = [
        ("HELO literal, AUTH on 25", 25, ["EHLO [{V}]", "AUTH LOGIN"], "normal+", "[{V}]"),
        ("HELO bare address, AUTH on 25", 25, ["EHLO {V}", "AUTH LOGIN"], "normal+", "({V})"),
        ("junk HELO forging a 535 line", 25,
         ["EHLO x) [{V}]: 535 Incorrect authentication data (set_id=a", "AUTH LOGIN"], "-", "(x) [{V}]: 535"),
        ("junk HELO forging the AUTH-not-advertised tail", 25,
         ['EHLO x) [{V}] AUTH command used when not advertised" H=(y', "AUTH LOGIN"], "normal+", "(x) [{V}] AUTH"),
        ("junk HELO forging H=", 25, ["EHLO H=[{V}] x", "AUTH LOGIN"], "-", "(H=[{V}] x)"),
        ("AUTH PLAIN user: the victim", 587, ["EHLO ylmf-pc", b64("AUTH PLAIN ", "\0[{V}]\0x")], "normal+",
         "set_id=[{V}]"),
        ("AUTH PLAIN user: a forged 535 tail", 587,
         ["EHLO ylmf-pc", b64("AUTH PLAIN ", "\0x) [{V}]: 535 Incorrect authentication data\0x")], "more+",
         "set_id=x) [{V}]"),
        ("AUTH PLAIN user: a newline and a second line", 587,
         ["EHLO ylmf-pc", b64("AUTH PLAIN ", "\0a\n" + STAMP + " login authenticator failed for (a) [{V}]: "
                                          "535 Incorrect authentication data\0x")], "more+",
         "failed for (a) [{V}]"),
        ("AUTH LOGIN user with a forged H=", 587, ["EHLO ylmf-pc", "AUTH LOGIN", b64("", 'x" H=(y) [{V}]'), b64("", "pw")],
         "more+", 'set_id=x" H=(y) [{V}]'),
        ("AUTH PLAIN user of 3000 bytes", 587, ["EHLO ylmf-pc", b64("AUTH PLAIN ", "\0" + "A" * 3000 + "[{V}]\0x")],
         "normal+", "A[{V}]"),
        ("quoted command with a forged H=", 25, ["EHLO ylmf-pc", 'AUTH LOGIN" H=(x) [{V}]'], "normal+",
         '" H=(x) [{V}]'),
        ("quoted command with a forged tail", 25, ["EHLO ylmf-pc", 'AUTH x" H=[{V}] AUTH command used when not advertised'],
         "normal+", '" H=[{V}] AUTH'),
        ("unrecognized command with the victim", 25, ["EHLO ylmf-pc", "FOO [{V}]"], "more+", '"FOO [{V}]"'),
        ("unrecognized command with a forged H=", 25, ["EHLO ylmf-pc", 'X" H=[{V}] unrecognized command'], "more+",
         '" H=[{V}] unrecognized'),
        ("too many unrecognized commands", 25, ["EHLO ylmf-pc"] + ["FOO [{V}]"] * 4, "more+", "FOO [{V}]"),
        ("AUTH mechanism named like the victim", 587, ["EHLO ylmf-pc", "AUTH [{V}]"], "more+", "AUTH [{V}]"),
        ("ident: a forged H= after the real host (AUTH on 25)", 25, ["EHLO ylmf-pc", "AUTH LOGIN"], "-",
         'U=a" H=(y) [{V}]', 'a" H=(y) [{V}]'),
        ("ident: a forged H= after the real host (unrecognized command)", 25, ["EHLO ylmf-pc", "FOO"], "more+",
         'U=a" H=[{V}]', 'a" H=[{V}] unrecognized command'),
        ("ident: the victim, connect ACL", 2587, [], "normal+", "U=[{V}]", "[{V}]"),
        ("AUTH ACL, junk HELO with the victim", 2525, ["EHLO x [{V}]", "AUTH LOGIN"], "normal+", "x [{V}]"),
        ("MAIL FROM holding a forged relay rejection", 25,
         ["EHLO ylmf-pc", 'MAIL FROM:<"x H=(y) [{V}] rejected RCPT <a@b>: relay not permitted"@example.net>',
          "RCPT TO:<c@remote.example>"], "-", "(y) [{V}] rejected"),
        ("MAIL FROM domain literal, relay", 25, ["EHLO ylmf-pc", "MAIL FROM:<a@[{V}]>", "RCPT TO:<c@remote.example>"],
         "-", "<a@[{V}]>"),
        ("RCPT TO domain literal of the victim", 25, ["EHLO ylmf-pc", "MAIL FROM:<a@example.net>", "RCPT TO:<c@[{V}]>"],
         "-", "<c@[{V}]>"),
        ("RCPT TO quoted local part with ') ['", 25,
         ["EHLO ylmf-pc", "MAIL FROM:<a@example.net>", 'RCPT TO:<"a) [{V}] b"@remote.example>'], "-", ") [{V}] b"),
        ("RCPT TO an unknown local user named like the victim", 25,
         ["EHLO ylmf-pc", "MAIL FROM:<a@example.net>", "RCPT TO:<{V}@injection.example>"], "more+",
         "<{V}@injection.example>"),
        ("MAIL FROM with an unquoted space", 25, ["EHLO ylmf-pc", "MAIL FROM:<a b [{V}]@x>"], "-", "b [{V}]@x"),
        ("input before the greeting", 25, [("early", "EHLO [{V}]")], "more+", 'input="EHLO [{V}]'),
        ("pipelined input after HELO", 25, ["HELO ylmf-pc", ("burst", "MAIL FROM:<a@b>\r\nRCPT TO:<x@[{V}]>")], "more+",
         "<x@[{V}]>"),
    ]
    result = [Session(n, p, s, h, pl, *rest) for n, p, s, h, pl, *rest in out]
    result += [
        Session("IPv6: HELO literal, AUTH on 25", 25, ["EHLO [IPv6:{V}]", "AUTH LOGIN"], "normal+", "[IPv6:{V}]",
                v6=True),
        Session("IPv6: ident with a forged H=", 25, ["EHLO ylmf-pc", "AUTH LOGIN"], "-", 'U=a" H=(y) [{V}]',
                ident='a" H=(y) [{V}]', v6=True),
        Session("ident with control bytes", 25, ["EHLO ylmf-pc", "AUTH LOGIN"], "-", '\x1b[2K" H=(y) [{V}]',
                ident='a\x1b[2K" H=(y) [{V}]'),
        Session("a 9000-byte unrecognized command (Exim's log buffer overflows)", 25,
                ["EHLO ylmf-pc", 'X" H=[{V}] ' + "A" * 9000 + " unrecognized command"], "more+", '" H=[{V}] AAAA'),
        # from 203.0.113.128/25, where exim-injection.conf accepts no junk HELO
        Session("junk HELO refused, then AUTH", 25, ["EHLO x) [{V}]: 535 Incorrect authentication data (set_id=a",
                                                     "AUTH LOGIN"], "normal+", "x) [{V}]: 535", strict=True),
        Session("HELO with a NUL byte refused", 25, ["EHLO a\0[{V}]", "AUTH LOGIN"], "normal+", "a\0[{V}]",
                strict=True),
    ]
    n4, n6, strict = 10, 1, 128
    for s in result:
        if s.strict:
            s.client, s.victim = "203.0.113.%d" % strict, v % strict
            strict += 1
        elif s.v6:
            s.client, s.victim = "2001:db8:bad:%x::1" % n6, "2001:db8:f00d::%x" % n6
            n6 += 1
        else:
            s.client, s.victim = "203.0.113.%d" % n4, v % n4
            n4 += 1
    return result


# =============================================================================
# identd (RFC 1413) in the client namespace
# =============================================================================

class Identd:
    """Answers Exim's ident queries: the ident registered for the client
    address that Exim asks (each session has one of its own, registered
    before it connects: Exim asks at once), else ERROR : NO-USER."""

    def __init__(self, netns):
        self.idents = {}
        self.queries = 0
        self.socks = []
        for family, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            s = netns.socket(family)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, 113))
            s.listen(16)
            self.socks.append(s)
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    def _serve(self, listener):
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    query = conn.recv(512).decode("latin-1").strip()
                    ports = [int(p) for p in query.split(",")]
                    ident = self.idents.get(conn.getsockname()[0])
                    self.queries += 1
                    reply = ("%d , %d : USERID : UNIX : %s" % (ports[0], ports[1], ident) if ident is not None
                             else "%d , %d : ERROR : NO-USER" % (ports[0], ports[1]))
                    conn.sendall(reply.encode("latin-1") + b"\r\n")
                except (OSError, ValueError, IndexError):
                    pass

    def close(self):
        for s in self.socks:
            s.close()


# =============================================================================
# drive
# =============================================================================

def run_session(netns, identd, s):
    fill = lambda text: text.replace("{V}", s.victim)  # noqa: E731
    family = 6 if s.v6 else 4
    if s.ident is not None:
        identd.idents[s.client] = fill(s.ident)
    c = Conversation(netns, s.client, SERVER[family], s.port)
    replies = []
    try:
        steps = list(s.steps)
        if steps and isinstance(steps[0], tuple) and steps[0][0] == "early":
            c.send(fill(steps.pop(0)[1]) + "\r\n")
        replies.append(c.reply().code)
        for step in steps:
            if isinstance(step, tuple) and step[0] == "b64":
                text = base64.b64encode(fill(step[2]).encode("latin-1")).decode()
                replies.append(c.command(step[1] + text).code)
            elif isinstance(step, tuple):   # ("burst", TEXT)
                c.send(fill(step[1]) + "\r\n")
                replies.append(c.reply().code)
            else:
                replies.append(c.command(fill(step)).code)
            if replies[-1] == 421:
                break
    except (OSError, ConnectionError) as e:
        replies.append("closed (%s)" % type(e).__name__)
    finally:
        c.quit()
    return replies


def main_drive(work, client_ns):
    netns = Netns(client_ns)
    identd = Identd(netns)
    done = []
    try:
        for s in sessions():
            done.append({"name": s.name, "client": s.client, "victim": s.victim, "hit": s.hit,
                         "planted": s.planted.replace("{V}", s.victim),
                         "replies": run_session(netns, identd, s)})
    finally:
        identd.close()
        netns.close()
    with open(os.path.join(work, "sessions.json"), "w") as f:
        json.dump({"sessions": done, "ident_queries": identd.queries}, f, indent=1)
    print("exim-injection: %d crafted sessions sent, %d ident queries answered" % (len(done), identd.queries))
    return 0


# =============================================================================
# check
# =============================================================================

class Check:
    def __init__(self, work, band, banctl):
        self.work, self.banctl = work, banctl
        with open(os.path.join(work, "sessions.json")) as f:
            self.sessions = json.load(f)["sessions"]
        self.mainlog = os.path.join(work, "log", "mainlog")
        with open(self.mainlog, "rb") as f:
            self.log_bytes = f.read()
        self.band_dir = os.path.join(work, "band")
        os.mkdir(self.band_dir)
        # band_harness's jail "exim" (mode normal) with maxretry 1 (a later
        # key overrides an earlier one), and a jail for each other mode.
        jails = "".join("\n[%s]\nenabled = true\nlogpath = %s\nfilter = exim[mode=%s]\nmaxretry = 1\n"
                        % (m, self.mainlog, m) for m in MODES[1:])
        self.band = band_harness.Band(band, self.band_dir, [self.mainlog],
                                      extra="findtime = 1d\nbantime.increment = false\n",
                                      jail_extra="maxretry = 1\n" + jails)
        self.figures = {}

    def summary(self):
        return ", ".join("%s %s" % kv for kv in self.figures.items())

    def run(self):
        through = [s for s in self.sessions if s["planted"].encode("latin-1") in self.log_bytes]
        self.figures["sessions"] = len(self.sessions)
        self.figures["let through"] = len(through)
        self.figures["refused/rewritten"] = len(self.sessions) - len(through)
        lines = self.log_bytes.count(b"\n")
        self.figures["mainlog lines"] = lines
        self.band.start(dry_run=False)
        size = len(self.log_bytes)
        band_harness.wait_for("exim-band to commit the whole mainlog (%d bytes)" % size,
                              lambda: self.offset() >= size, timeout=30)
        # A batch's bans reach the kernel just after its commit: on a busy
        # machine the commit can be seen first.
        band_harness.wait_for("the kernel to hold the store's %d bans" % self.stored_bans(),
                              lambda: sum(len(v) for v in self.nft_list().values()) >= self.stored_bans(),
                              timeout=30)
        kernel = self.nft_list()
        self.band.stop()
        clients = {s["client"] for s in self.sessions}
        bans = sum(len(v) for v in kernel.values())
        self.figures["bans"] = bans
        victims = [(j, k) for j, keys in kernel.items() for k in keys if corpus.in_ranges(k, corpus.VICTIMS)]
        strangers = [(j, k) for j, keys in kernel.items() for k in keys
                     if not any(corpus.key_of(c) == k for c in clients)]
        self.figures["victim bans"] = len(victims)
        self.figures["bans of others"] = len(strangers)
        problems = []
        if strangers:
            problems.append("banned an address that did not connect: %s" % strangers)
        for s in self.sessions:
            want = set(m for h in s["hit"].split(",") for m in corpus.HIT_SETS[h])
            for mode in MODES:
                banned = corpus.key_of(s["client"]) in kernel.get(JAIL[mode], set())
                if banned != (mode in want):
                    problems.append("%s (%s): %s in jail %s, want %s; replies %s; its lines:\n      %s" % (
                        s["name"], s["client"], "banned" if banned else "not banned", mode,
                        "banned" if mode in want else "not banned", s["replies"],
                        "\n      ".join(self.lines_of(s["client"]))))
        for s in self.sessions:
            print("exim-injection: %-4s %-62s %-8s %s" % (
                "thru" if s in through else "refd", s["name"], s["hit"], s["client"]))
        if problems:
            raise Failure("%d problem(s):\n  %s" % (len(problems), "\n  ".join(problems)))

    def offset(self):
        """How far the daemon has committed the mainlog (0 before its store exists)."""
        try:
            with sqlite3.connect("file:%s?mode=ro" % self.band.database, uri=True, timeout=5) as db:
                return max((r[0] for r in db.execute("SELECT offset FROM files")), default=0)
        except sqlite3.OperationalError:
            return 0

    def stored_bans(self):
        """The bans the daemon committed, one a jail and key."""
        with sqlite3.connect("file:%s?mode=ro" % self.band.database, uri=True, timeout=5) as db:
            return db.execute("SELECT COUNT(*) FROM (SELECT DISTINCT jail, key FROM bans)").fetchone()[0]

    def nft_list(self):
        p = subprocess.run([self.banctl, "nft-list", "--json"], capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise Failure("exim-banctl nft-list --json exited %d: %s" % (p.returncode, p.stderr.strip()))
        kernel = {}
        for e in json.loads(p.stdout).get("elements", []):
            kernel.setdefault(e["jail"], set()).add(corpus.key_of(e["element"].split("/")[0]))
        return kernel

    def lines_of(self, client):
        text = self.log_bytes.decode("latin-1")
        return [ln for ln in text.split("\n") if re.search(r"[\[ ]%s[\]: ]" % re.escape(client), ln)][:6]

    def close(self):
        if self.band.process is not None:
            self.band.kill()


def main_addresses():
    for s in sessions():
        print(s.client)


def main_check(work, band, banctl):
    return run_test(Check(work, band, banctl), Failure, sayer("exim-injection"))


if __name__ == "__main__":
    sys.exit(run_subcommand({"addresses": (main_addresses, 0), "drive": (main_drive, 2),
                             "check": (main_check, 3)}, __doc__))
