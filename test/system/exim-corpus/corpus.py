#!/usr/bin/env python3
"""corpus.py -- the clients of the Exim corpus and the expectations they imply.

Called by run-corpus in three steps:
  corpus.py setup WORK        write passwd, allow files and the SQLite blacklist
                              for the two Exim instances; print every client
                              address (run-corpus puts them on the client veth)
  corpus.py drive WORK        (inside the client namespace) run every scripted
                              client; write WORK/drive.json: per address, the log
                              lines each instance should have written that a
                              filter counts, as "kinds" (see KINDS)
  corpus.py expect WORK OUT   read OUT/mainlog-A and OUT/mainlog-B, classify every
                              line with a reference classifier that knows the real
                              client addresses, compare with drive.json, write
                              OUT/expect.json; exit 1 on any disagreement
and by hand:
  corpus.py classify DIR       print every line of DIR/mainlog-A and -B with the
                              kind the reference classifier gives it and its
                              client (addresses from DIR/expect.json)

The Exim under test is any of 4.96 to 4.99 (run-corpus exports its version
as CORPUS_EXIM_VERSION; the few expectations that differ ask exim_version()).
Every simulated client has its own source address (10.99.1.N, fd00:99:1::N);
addresses 10.99.9.N / fd00:99:9::N are "victims": they only appear inside text
that attackers send and never connect.
"""

import base64
import ipaddress
import json
import os
import re
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from command_line import run_subcommand  # noqa: E402
from smtp_client import Conversation  # noqa: E402

TIMEOUT = 10  # seconds, every socket read and every swaks run is bounded
TLS_NAME = "mx.lab.example"   # the SNI of the raw sessions' TLS

SERVER = {"A": {4: "10.99.0.1", 6: "fd00:99::1"}, "B": {4: "10.99.0.2", 6: "fd00:99::2"}}
PASSWD = {"alice": "alice-pw-1", "bob": "bob-pw-2", "carol": "carol-pw-3"}

# Line kinds the filter counts. Mode normal counts NORMAL; mode more counts
# NORMAL and MORE. A line counts once even if it fits several shapes.
NORMAL = (
    "auth535",        # <driver> authenticator failed for ... [ip]: 535 Incorrect authentication data
    "not_advertised", # SMTP protocol error in "..." H=... [ip] AUTH command used when not advertised
    "mech_unsupported",  # ... <MECH> authentication mechanism not supported
    "tls_required",   # H=... [ip] rejected AUTH <mech>: SSL or TLS encryption required ...
    "auth_rejected",  # H=... [ip] rejected AUTH <mech>: AUTH not accepted
    "nixed_auth",     # logwrite AUTH nixed: <ip> ...
    "nixed_connect",  # logwrite AUTH nixed <ip> <port> connect
    "submission",     # H=[ip] temporarily rejected connection in "connect" ACL: Submission not permitted on <port>
    "blacklisted",    # H=[ip] rejected connection in "connect" ACL: Blacklisted: ...
    "deferred",       # H=[ip] temporarily rejected connection in "connect" ACL: Sender deferred ...
)
MORE = (
    "auth_other",     # <driver> authenticator failed for ... [ip]: 501 ... (cancelled, bad base64)
    "sync",           # SMTP protocol synchronization error (...): rejected ...
    "dropped",        # SMTP call from ... [ip] dropped: too many ...
    "rcpt",           # H=... [ip] ... rejected RCPT <...>: <abuse reason> (RCPT_ABUSE)
    "sender_verify",  # H=... [ip] sender verify fail for <...>: <any reason>
    "syntax",         # SMTP syntax error in "..." H=... [ip] ...
    "drop_acl",       # SMTP connection from ... [ip] closed by DROP in ACL
    "no_mail",        # no MAIL in SMTP connection from ... [ip] ...
    "vrfy",           # H=... [ip] rejected VRFY|EXPN ...
    "helo_invalid",   # rejected HELO|EHLO from ... [ip]: syntactically invalid argument(s): ...
    "order",          # SMTP protocol error in "..." H=... [ip] sender not yet given |
                      #   valid RCPT command must precede DATA (commands out of order)
)
# The reasons of a "rejected RCPT" that show the client abusing the server.
# Never counted: temporary rejections (greylisting, "Could not complete sender
# verify"), and the site's own policy (over quota, DNS blacklists, content):
# the honest clients below make those lines.
RCPT_ABUSE = ("relay not permitted", "Unknown user", "Unrouteable address", "Sender verify failed")
KINDS = NORMAL + MORE
MODES = ("normal", "more")


def counts(kinds):
    """hits per mode for a list of kinds"""
    n = sum(1 for k in kinds if k in NORMAL)
    m = sum(1 for k in kinds if k in KINDS)
    return {"normal": n, "more": m}


def canon(addr):
    return ipaddress.ip_address(addr).compressed


def fam(addr):
    return 6 if ":" in addr else 4


def v4(n):
    return f"10.99.1.{n}"


def v6(n):
    return f"fd00:99:1::{n}"


def victim(n, family=4):
    """a victim address: only ever written inside attacker text"""
    a = f"10.99.9.{n}" if family == 4 else f"fd00:99:9::{n}"
    if a not in VICTIMS:
        VICTIMS.append(a)
    return a


def b64(s):
    if isinstance(s, str):
        s = s.encode()
    return base64.b64encode(s).decode()


# --------------------------------------------------------------------------
# clients
# --------------------------------------------------------------------------

class Client:
    def __init__(self, addr, role, what, run, submit_ok=False, auth_ok=False, blacklist=0,
                 greylisted=False, dnsbl=False):
        self.addr = addr
        self.role = role
        self.what = what
        self.run = run
        self.submit_ok = submit_ok
        self.auth_ok = auth_ok
        self.blacklist = blacklist
        self.greylisted = greylisted  # the RCPT ACL defers it ("greylisting")
        self.dnsbl = dnsbl            # B's RCPT ACL denies it as DNSBL-listed
        self.kinds = {"A": [], "B": []}
        self.ambiguous = {"A": [], "B": []}  # kinds a filter may or may not count
        self.notes = []
        self.log = []

    def expect(self, inst, *kinds):
        for k in kinds:
            assert k in KINDS, k
        self.kinds[inst].extend(kinds)

    def maybe(self, inst, kind, note):
        assert kind in KINDS, kind
        self.ambiguous[inst].append(kind)
        self.notes.append(note)


CLIENTS = []
VICTIMS = []


def add(addr, role, what, run, **kw):
    c = Client(addr, role, what, run, **kw)
    CLIENTS.append(c)
    return c


class SmtpError(Exception):
    pass


class Session(Conversation):
    """A raw SMTP session of client `c` from its own address to instance
    `inst`, its greeting read (banner); every command and its reply's code
    go to the client's log."""

    def __init__(self, c, inst, port, tls_on_connect=False, early=None):
        self.c = c
        self.inst = inst
        super().__init__(None, c.addr, SERVER[inst][fam(c.addr)], port, TIMEOUT,
                         TLS_NAME if tls_on_connect else None, early)
        self.banner = self.read_reply()
        c.log.append(f"{inst}:{port} banner {self.banner[0]}")

    def cmd(self, line, want=None):
        self.send(line + "\r\n")
        r = self.read_reply()
        self.c.log.append(f"{self.inst} > {line!r} < {r[0]}")
        if want is not None and r[0] != want:
            raise SmtpError(f"{self.c.addr} {self.inst}: {line!r} -> {r!r}, wanted {want}")
        return r

    def starttls(self):
        self.cmd("STARTTLS", 220)
        self.start_tls(TLS_NAME)

    def auth_login(self, user, pw, want=535):
        r = self.cmd("AUTH LOGIN")
        if r[0] != 334:  # refused before the dialogue (ACL, not advertised)
            if r[0] != want:
                raise SmtpError(f"{self.c.addr} {self.inst}: AUTH LOGIN -> {r!r}, wanted {want}")
            return r
        self.cmd(b64(user), 334)
        return self.cmd(b64(pw), want)

    def auth_plain(self, user, pw, want=535):
        return self.cmd("AUTH PLAIN " + b64(f"\0{user}\0{pw}"), want)

    def mail(self, sender, rcpts, body="Subject: corpus\r\n\r\ncorpus test\r\n"):
        self.cmd(f"MAIL FROM:<{sender}>", 250)
        for r in rcpts:
            self.cmd(f"RCPT TO:<{r}>", 250)
        self.cmd("DATA", 354)
        self.send(body + ".\r\n")
        r = self.read_reply()
        if r[0] != 250:
            raise SmtpError(f"{self.c.addr}: DATA end -> {r!r}")

    def quit(self):
        if not self.closed:
            try:
                self.cmd("QUIT")
            except OSError:
                pass
        self.wait_closed()



def session(c, inst, port=25, tls=None, helo="client.example"):
    """A Session past its greeting (220) and EHLO HELO, with TLS when `tls`
    is "onconnect" or "starttls" (then EHLO again)."""
    s = Session(c, inst, port, tls_on_connect=(tls == "onconnect"))
    if s.banner[0] != 220:
        raise SmtpError(f"{c.addr}: banner {s.banner}")
    s.cmd(f"EHLO {helo}", 250)
    if tls == "starttls":
        s.starttls()
        s.cmd(f"EHLO {helo}", 250)
    return s


SWAKS_SUPPORT = None


def swaks_support():
    global SWAKS_SUPPORT
    if SWAKS_SUPPORT is None:
        if os.environ.get("CORPUS_NO_SWAKS"):
            SWAKS_SUPPORT = set()
        else:
            out = subprocess.run(["swaks", "--support"], capture_output=True, text=True,
                                 timeout=TIMEOUT).stdout + ""
            SWAKS_SUPPORT = {"plain"}
            if "=== TLS supported" in out:
                SWAKS_SUPPORT.add("tls")
            if "=== IPv6 supported" in out:
                SWAKS_SUPPORT.add("ipv6")
    return SWAKS_SUPPORT


def swaks_auth_reply(transcript):
    """the code of the server's final reply to swaks's AUTH command"""
    after_auth = False
    for line in transcript.splitlines():
        if re.match(r"^ *[-~*]> AUTH ", line):
            after_auth = True
            continue
        m = re.match(r"^<[-~*]+ +(\d{3}) ", line)
        if after_auth and m and m.group(1) != "334":
            return int(m.group(1))
    return None


def submit(c, inst, port, tls, user, pw, mech="LOGIN", helo="client.example", mail=None,
           want=535):
    """One SMTP session that authenticates (and, with mail=(from, [to]), sends).

    tls: None, "starttls" or "onconnect". Uses swaks when this swaks can do the
    session (TLS and IPv6 need Net::SSLeay and IO::Socket::INET6), else the same
    dialogue with the raw client. want: the AUTH reply code expected."""
    sup = swaks_support()
    use_swaks = "plain" in sup and (tls is None or "tls" in sup) and (fam(c.addr) == 4 or "ipv6" in sup)
    if use_swaks:
        args = ["swaks", "--server", SERVER[inst][fam(c.addr)], "--port", str(port),
                "--local-interface", c.addr, "--helo", helo, "--timeout", str(TIMEOUT),
                "--auth", mech, "--auth-user", user, "--auth-password", pw]
        if fam(c.addr) == 6:
            args.append("-6")
        if tls == "starttls":
            args.append("--tls")
        elif tls == "onconnect":
            args.append("--tls-on-connect")
        if mail:
            args += ["--from", mail[0], "--to", ",".join(mail[1]),
                     "--header", "Subject: corpus", "--body", "corpus test"]
        else:
            args += ["--from", "probe@client.example", "--to", "alice@lab.example",
                     "--quit-after", "AUTH"]
        p = subprocess.run(args, capture_output=True, text=True, timeout=3 * TIMEOUT)
        c.log.append(" ".join(args))
        c.log.append(p.stdout[-2000:])
        code = swaks_auth_reply(p.stdout)
        if code != want:
            raise SmtpError(f"{c.addr} swaks {inst}:{port}: AUTH reply {code}, wanted {want}\n{p.stdout}{p.stderr}")
        if mail and not re.search(r"^<[-~] *250 .*[Aa]ccepted|^<[-~] *250 OK id=", p.stdout, re.M):
            raise SmtpError(f"{c.addr} swaks: message not accepted\n{p.stdout}")
        return code
    s = session(c, inst, port, tls, helo)
    if mech == "LOGIN":
        r = s.auth_login(user, pw, want)
    else:
        r = s.auth_plain(user, pw, want)
    if mail:
        s.mail(mail[0], mail[1])
    s.quit()
    return r[0]


# --------------------------------------------------------------------------
# the scenarios: who connects where and what each client sends
# --------------------------------------------------------------------------

def exim_version():
    """the version under test (run-corpus exports it) as a tuple of ints"""
    v = os.environ.get("CORPUS_EXIM_VERSION", "4.96")
    return tuple(int(x) for x in v.split("."))


def acl_before_tls():
    """Exim 4.97 and later run the connect ACL of a TLS-on-connect port
    before the handshake (a defer there drops the connection: "dropped by
    'connect' ACL"); 4.96 after it"""
    return exim_version() >= (4, 97)


def blast(inst, data, kinds, first=None):
    """a bot that does not wait for the greeting; first: the code of the
    first reply the bot must see (554 where early input is refused)"""
    def run(c):
        s = Session(c, inst, 25, early=data)
        codes = [s.banner[0]]
        while not s.closed and s.read_reply()[0] is not None:
            pass
        s.wait_closed()
        c.log.append(f"early input: first reply {codes}")
        if first is not None and codes[0] != first:
            raise SmtpError(f"{c.addr}: early input got {s.banner!r}, wanted {first}")
        c.expect(inst, *kinds)
    return run


def define():
    # ---- benign: must never appear in any mode --------------------------------
    def good_submit(inst, port, tls, user, mech, rcpt):
        def run(c):
            submit(c, inst, port, tls, user, PASSWD[user], mech, helo="laptop.client.example",
                   mail=(f"{user}@lab.example", [rcpt]), want=235)
        return run

    def good_mx(inst, sender, rcpt):
        def run(c):
            s = Session(c, inst, 25)
            s.cmd("EHLO mx.sender.example", 250)
            s.mail(sender, [rcpt])
            s.quit()
        return run

    add(v4(10), "benign", "A 587 STARTTLS LOGIN alice, sends to bob",
        good_submit("A", 587, "starttls", "alice", "LOGIN", "bob@lab.example"),
        submit_ok=True, auth_ok=True)
    add(v6(10), "benign", "A 465 TLS PLAIN bob, sends to remote.example (relayed to B)",
        good_submit("A", 465, "onconnect", "bob", "PLAIN", "carol@remote.example"),
        submit_ok=True, auth_ok=True)
    add(v4(11), "benign", "A 25 MX delivery", good_mx("A", "news@remote.example", "alice@lab.example"))
    add(v6(11), "benign", "A 25 MX delivery over IPv6", good_mx("A", "", "postmaster@lab.example"))
    add(v4(12), "benign", "B 25 MX delivery", good_mx("B", "", "carol@lab.example"))
    add(v6(12), "benign", "B 587 STARTTLS LOGIN carol, sends",
        good_submit("B", 587, "starttls", "carol", "LOGIN", "alice@lab.example"))
    add(v4(13), "benign", "B 465 TLS PLAIN alice, sends",
        good_submit("B", 465, "onconnect", "alice", "PLAIN", "bob@remote.example"))
    add(v6(13), "benign", "B 25 MX delivery over IPv6", good_mx("B", "bob@remote.example", "carol@lab.example"))
    add(v4(14), "benign", "B 25 MX delivery; listed in the blacklist under the threshold",
        good_mx("B", "", "alice@lab.example"), blacklist=3)

    # ---- honest senders the site turns away: counted in no mode --------------------
    # a temporary rejection is never a hit, nor is the site's own policy
    def turned_away(inst, sender, rcpt, code, then=None):
        """MAIL, a RCPT that gets `code`, then (optionally) a RCPT and a
        message the server takes"""
        def run(c):
            s = Session(c, inst, 25)
            s.cmd("EHLO mx.honest.example", 250)
            s.cmd(f"MAIL FROM:<{sender}>", 250)
            s.cmd(f"RCPT TO:<{rcpt}>", code)
            if then:
                s.cmd(f"RCPT TO:<{then}>", 250)
                s.cmd("DATA", 354)
                s.send("Subject: corpus\r\n\r\ncorpus test\r\n.\r\n")
                if s.read_reply()[0] != 250:
                    raise SmtpError(f"{c.addr}: message not accepted")
            s.quit()
        return run

    add(v4(15), "benign", "B 25 greylisted MX: RCPT deferred (451)",
        turned_away("B", "news@remote.example", "alice@lab.example", 451), greylisted=True)
    add(v6(15), "benign", "A 25 greylisted MX over IPv6: RCPT deferred (451)",
        turned_away("A", "", "bob@lab.example", 451), greylisted=True)
    add(v4(16), "benign", "A 25 MX: one mailbox over quota (550), the other takes the message",
        turned_away("A", "", "full@lab.example", 550, then="alice@lab.example"))
    add(v6(16), "benign", "B 25 MX over IPv6: mailbox over quota (550)",
        turned_away("B", "news@remote.example", "full@lab.example", 550))
    add(v4(17), "benign", "A 25 sender in a domain whose DNS fails: sender verify defers (451)",
        turned_away("A", "list@dnsfail.example", "alice@lab.example", 451))
    add(v6(17), "benign", "B 25 sender in a domain whose DNS fails, IPv6: sender verify defers (451)",
        turned_away("B", "list@dnsfail.example", "carol@lab.example", 451))
    add(v4(18), "benign", "B 25 host on a DNS blacklist: RCPT denied (site policy, exim-spam's)",
        turned_away("B", "", "alice@lab.example", 550), dnsbl=True)

    # ---- password guessers (swaks, wrong passwords) ------------------------------
    def guesser(inst, port, tls, mech, tries):
        def run(c):
            users = ["alice", "admin", "info", "bob", "test"]
            for i in range(tries):
                submit(c, inst, port, tls, users[i % len(users)], f"guess{i}", mech,
                       helo="ylmf-pc")
                c.expect(inst, "auth535", "no_mail")
        return run

    # A: only hosts in both allow files get as far as the authenticators
    add(v4(20), "attacker", "A 587 STARTTLS LOGIN guesser x3", guesser("A", 587, "starttls", "LOGIN", 3),
        submit_ok=True, auth_ok=True)
    add(v6(20), "attacker", "A 465 TLS PLAIN guesser x3", guesser("A", 465, "onconnect", "PLAIN", 3),
        submit_ok=True, auth_ok=True)
    add(v4(21), "attacker", "A 465 TLS LOGIN guesser x2", guesser("A", 465, "onconnect", "LOGIN", 2),
        submit_ok=True, auth_ok=True)
    add(v6(21), "attacker", "A 587 STARTTLS LOGIN guesser x2 over IPv6",
        guesser("A", 587, "starttls", "LOGIN", 2), submit_ok=True, auth_ok=True)
    # B: AUTH advertised everywhere, TLS required by the AUTH ACL
    add(v4(22), "attacker", "B 25 STARTTLS LOGIN guesser x3", guesser("B", 25, "starttls", "LOGIN", 3))
    add(v6(22), "attacker", "B 465 TLS PLAIN guesser x3 (no set_id)", guesser("B", 465, "onconnect", "PLAIN", 3))
    add(v4(23), "attacker", "B 587 STARTTLS PLAIN guesser x3", guesser("B", 587, "starttls", "PLAIN", 3))
    add(v6(23), "attacker", "B 587 STARTTLS LOGIN guesser x2 over IPv6",
        guesser("B", 587, "starttls", "LOGIN", 2))
    add(v6(24), "attacker", "B 25 STARTTLS LOGIN guesser x2 over IPv6",
        guesser("B", 25, "starttls", "LOGIN", 2))

    def multi_guess(c):
        # five AUTH attempts in one TLS session (raw client)
        s = Session(c, "B", 465, tls_on_connect=True)
        s.cmd("EHLO [10.99.1.24]", 250)
        for i in range(5):
            s.auth_login(f"user{i}", "123456")
            c.expect("B", "auth535")
        s.quit()
        c.expect("B", "no_mail")

    add(v4(24), "attacker", "B 465 five LOGIN guesses in one session", multi_guess)

    # ---- bots: AUTH when it is not advertised ----------------------------------
    def not_adv(cmds, helo="ylmf-pc", port=25, inst="A"):
        def run(c):
            s = Session(c, inst, port)
            s.cmd(f"EHLO {helo}", 250)
            for line in cmds:
                s.cmd(line, 503)
                c.expect(inst, "not_advertised")
            s.quit()
            c.expect(inst, "no_mail")
        return run

    add(v4(30), "attacker", "A 25 AUTH LOGIN not advertised", not_adv(["AUTH LOGIN"]))
    add(v6(30), "attacker", "A 25 lower/mixed case AUTH not advertised, IPv6",
        not_adv(["auth login", "aUtH lOgIn dXNlcg=="]))
    add(v4(31), "attacker", "A 25 AUTH PLAIN with initial response, not advertised",
        not_adv(["AUTH PLAIN " + b64("\0admin\0admin")], helo="USER-KVI9FGS9KP"))
    add(v4(32), "attacker", "A 587 allowed host, AUTH without STARTTLS: not advertised",
        not_adv(["AUTH LOGIN"], port=587), submit_ok=True, auth_ok=True)

    def too_many_errors(c):
        # Exim drops a session after more than smtp_max_synprot_errors (3)
        # errors: the 4th AUTH gets its 503, then a 554 and the close
        s = Session(c, "A", 25)
        s.cmd("EHLO ylmf-pc", 250)
        for _ in range(4):
            s.cmd("AUTH LOGIN", 503)
            c.expect("A", "not_advertised")
        r = s.read_reply()
        c.log.append(f"after 4 errors: {r}")
        s.wait_closed()
        c.expect("A", "dropped", "no_mail")

    add(v6(31), "attacker", "A 25 four AUTH not advertised -> dropped (too many protocol errors)", too_many_errors)

    add(v4(33), "attacker", "B 25 bot blasts EHLO+AUTH before the greeting (sync error)",
        blast("B", b"EHLO ylmf-pc\r\nAUTH LOGIN\r\n", ["sync"], first=554))
    add(v6(80), "attacker", "B 25 HTTP request before the greeting (sync error), IPv6",
        blast("B", b"GET / HTTP/1.1\r\nHost: mx-b\r\n\r\n", ["sync"], first=554))
    # A advertises PIPECONNECT (Exim 4.96 default) and takes early input as pipelined
    add(v6(33), "attacker", "A 25 bot blasts EHLO+AUTH before the greeting (PIPECONNECT: accepted early)",
        blast("A", b"EHLO ylmf-pc\r\nAUTH LOGIN\r\nQUIT\r\n", ["not_advertised", "no_mail"], first=220))

    # ---- unsupported mechanisms ------------------------------------------------
    def mech(inst, port, tls, lines):
        def run(c):
            s = Session(c, inst, port, tls_on_connect=(tls == "onconnect"))
            s.cmd("EHLO bot.example", 250)
            if tls == "starttls":
                s.starttls()
                s.cmd("EHLO bot.example", 250)
            for line in lines:
                s.cmd(line, 504)
                c.expect(inst, "mech_unsupported")
            s.quit()
            c.expect(inst, "no_mail")
        return run

    add(v4(35), "attacker", "B 587 STARTTLS AUTH CRAM-MD5 and NTLM: not supported",
        mech("B", 587, "starttls", ["AUTH CRAM-MD5", "AUTH NTLM"]))
    add(v6(35), "attacker", "B 465 lower-case auth digest-md5: not supported",
        mech("B", 465, "onconnect", ["auth digest-md5"]))

    # ---- A: the AUTH ACL drops hosts that may submit but not authenticate ----------
    def acl_drop(port, tls, line):
        def run(c):
            s = Session(c, "A", port, tls_on_connect=(tls == "onconnect"))
            s.cmd("EHLO relay-client.example", 250)
            if tls == "starttls":
                s.starttls()
                s.cmd("EHLO relay-client.example", 250)
            s.cmd(line, 503)
            s.wait_closed()
            c.expect("A", "nixed_auth", "auth_rejected", "drop_acl", "no_mail")
        return run

    add(v4(40), "attacker", "A 587 STARTTLS AUTH LOGIN from a host not in the AUTH allow file",
        acl_drop(587, "starttls", "AUTH LOGIN"), submit_ok=True)
    add(v6(40), "attacker", "A 465 AUTH PLAIN from a host not in the AUTH allow file",
        acl_drop(465, "onconnect", "AUTH PLAIN " + b64("\0alice\0x")), submit_ok=True)

    # ---- A: connect ACL, submission ports from hosts not in the allow file ---------
    def submission(port, tries, tls):
        def run(c):
            for _ in range(tries):
                try:
                    s = Session(c, "A", port, tls_on_connect=tls)
                    code = s.banner[0]
                    s.wait_closed()
                except (ssl.SSLError, OSError) as e:
                    code = str(e)
                c.log.append(f"submission {port}: {code}")
                c.expect("A", "submission", "nixed_connect")
        return run

    add(v4(45), "attacker", "A 587 from a host not allowed to submit, x2", submission(587, 2, False))
    add(v6(45), "attacker", "A 465 from a host not allowed to submit", submission(465, 1, True))
    add(v4(46), "attacker", "A 465 from a host not allowed to submit, x2", submission(465, 2, True))

    # ---- B: AUTH without TLS ----------------------------------------------------
    def no_tls(port, lines):
        def run(c):
            s = Session(c, "B", port)
            s.cmd("EHLO ylmf-pc", 250)
            for line in lines:
                s.cmd(line, 503)
                c.expect("B", "tls_required")
            s.quit()
            c.expect("B", "no_mail")
        return run

    add(v4(50), "attacker", "B 25 AUTH LOGIN and AUTH PLAIN without TLS",
        no_tls(25, ["AUTH LOGIN", "AUTH PLAIN " + b64("\0admin\0admin")]))

    def no_tls_swaks(c):
        for _ in range(2):
            submit(c, "B", 587, None, "alice", "guess", "LOGIN", helo="ylmf-pc", want=503)
            c.expect("B", "tls_required", "no_mail")

    add(v6(50), "attacker", "B 587 swaks AUTH LOGIN without TLS x2", no_tls_swaks)

    # ---- B: blacklisted and ratelimited hosts ---------------------------------------
    def blacklisted(port, tries):
        def run(c):
            for _ in range(tries):
                s = Session(c, "B", port)
                if s.banner[0] != 550:
                    raise SmtpError(f"{c.addr}: blacklisted banner {s.banner}")
                s.wait_closed()
                c.expect("B", "blacklisted")
        return run

    add(v4(55), "attacker", "B 25 blacklisted host x2", blacklisted(25, 2), blacklist=9)
    add(v6(55), "attacker", "B 587 blacklisted IPv6 host", blacklisted(587, 1), blacklist=6)

    def ratelimited(conns):
        def run(c):
            for _ in range(conns):
                s = Session(c, "B", 25)
                if s.banner[0] == 220:
                    s.cmd("EHLO mx.bulk.example", 250)
                    s.mail("", ["alice@lab.example"])
                    s.quit()
                elif s.banner[0] == 451:
                    s.wait_closed()
                    c.expect("B", "deferred")
                else:
                    raise SmtpError(f"{c.addr}: banner {s.banner}")
        return run

    add(v4(60), "attacker", "B 25 eight quick connections, over the ratelimit", ratelimited(8))
    add(v6(60), "attacker", "B 25 seven quick IPv6 connections, over the ratelimit", ratelimited(7))


def define_more():
    """shapes counted only in mode more, and injection attempts"""

    # ---- synchronization errors ------------------------------------------------
    def sync_after_helo(inst):
        # after HELO (not EHLO) pipelining is not advertised: MAIL and RCPT in
        # one write are a synchronization error
        def run(c):
            s = Session(c, inst, 25)
            s.cmd("HELO pipeliner.example", 250)
            s.send("MAIL FROM:<>\r\nRCPT TO:<alice@lab.example>\r\n")
            while s.read_reply()[0] is not None:
                pass
            s.wait_closed()
            # the MAIL was refused before it counted: "no MAIL ... C=HELO"
            c.expect(inst, "sync", "no_mail")
        return run

    # (instance A advertises PIPECONNECT and does not enforce synchronization
    # at all: the same client there gets 250s, so A has no sync-error line)
    add(v4(80), "attacker", "B 25 MAIL+RCPT in one write after HELO (sync error)", sync_after_helo("B"))

    # ---- too many nonmail / unrecognized commands -----------------------------------
    def nonmail(inst):
        def run(c):
            s = session(c, inst, helo="scanner.example")
            for i in range(20):
                code = s.cmd("NOOP")[0]
                if code != 250:
                    break
            c.log.append(f"NOOP x{i + 1}: last {code}")
            s.wait_closed()
            c.expect(inst, "dropped", "no_mail")
        return run

    add(v4(81), "attacker", "B 25 NOOP flood: too many nonmail commands", nonmail("B"))

    def unknown(inst, cmds):
        # more than smtp_max_unknown_commands (3) unrecognized commands drop
        # the session: the 4th gets its 500, then a 554 and the close
        def run(c):
            s = session(c, inst, helo="scanner.example")
            for line in cmds[:4]:
                s.cmd(line, 500)
                if inst == "B":  # +smtp_syntax_error logs each one
                    c.expect(inst, "syntax")
            c.log.append(f"after 4 unknown: {s.read_reply()}")
            s.wait_closed()
            c.expect(inst, "dropped", "no_mail")
        return run

    add(v6(81), "attacker", "A 25 unrecognized commands until dropped",
        unknown("A", ["GET / HTTP/1.0", "XYZZY", "USER root", "PASS toor", "LIST"]))
    add(v4(82), "attacker", "B 25 unrecognized commands until dropped",
        unknown("B", ["GET / HTTP/1.0", "XYZZY", "USER root", "PASS toor", "LIST"]))

    # ---- RCPT rejections and sender verify -------------------------------------
    def rcpts(inst, sender, rcpt_list, kinds):
        def run(c):
            s = session(c, inst, helo="relay-probe.example")
            s.cmd(f"MAIL FROM:<{sender}>", 250)
            for r in rcpt_list:
                code = s.cmd(f"RCPT TO:<{r}>")[0]
                if code // 100 != 5:
                    raise SmtpError(f"{c.addr}: RCPT {r} -> {code}")
            s.quit()
            c.expect(inst, *kinds)
        return run

    add(v4(83), "attacker", "A 25 relay attempt", rcpts("A", "", ["victim@elsewhere.example"], ["rcpt"]))
    add(v6(83), "attacker", "B 25 two relay attempts over IPv6",
        rcpts("B", "spam@elsewhere.example", ["a@elsewhere.example", "b@elsewhere.example"],
              # the sender is verified once; both RCPTs are refused with "Sender verify failed"
              ["sender_verify", "rcpt", "rcpt"]))
    add(v4(84), "attacker", "B 25 RCPT to unknown users",
        rcpts("B", "", ["nosuch@lab.example", "admin@remote.example"], ["rcpt", "rcpt"]))
    add(v6(84), "attacker", "A 25 RCPT to an unknown user over IPv6",
        rcpts("A", "", ["nosuch@lab.example"], ["rcpt"]))
    add(v4(85), "attacker", "A 25 sender that fails verification",
        rcpts("A", "nobody@lab.example", ["alice@lab.example"], ["sender_verify", "rcpt"]))
    add(v6(85), "attacker", "B 25 sender that fails verification over IPv6",
        rcpts("B", "ghost@remote.example", ["carol@lab.example"], ["sender_verify", "rcpt"]))

    # ---- SMTP syntax errors (B logs them) and other authenticator failures --------------
    def syntax(c):
        # 1: two syntax errors; a MAIL that fails its syntax check still
        #    counts as a MAIL command, so no "no MAIL" line
        s = session(c, "B", helo="broken.example")
        s.cmd("MAIL FROM:<a@b", 501)
        s.cmd("MAIL FROM <x@y>", 500)
        s.quit()
        c.expect("B", "syntax", "syntax")
        # 2: commands out of order (SMTP protocol errors) count in mode more
        s = session(c, "B", helo="broken.example")
        s.cmd("RCPT TO:<x@y>", 503)
        s.cmd("DATA", 503)
        s.quit()
        c.expect("B", "order", "order", "no_mail")
        # 3: "rejected HELO ... syntactically invalid" counts in mode more; an
        #    unqualified sender's 501 is not logged
        s = session(c, "B", helo="broken.example")
        s.cmd("HELO", 501)
        s.cmd("MAIL FROM:bogus", 501)
        s.quit()
        c.expect("B", "helo_invalid")

    add(v4(86), "attacker", "B 25 SMTP syntax errors, commands out of order, HELO without name", syntax)

    def out_of_order(c):
        s = session(c, "A", helo="broken.example")
        s.cmd("DATA", 503)
        s.cmd("MAIL FROM:<>", 250)
        s.cmd("DATA", 503)
        s.quit()
        c.expect("A", "order", "order")

    add(v6(90), "attacker", "A 25 DATA before MAIL and before RCPT (commands out of order), IPv6",
        out_of_order)

    def refused(inst, helo, codes, kind, cmds):
        """after EHLO, each command refused with one of `codes`: a `kind` line"""
        def run(c):
            s = session(c, inst, helo=helo)
            for line in cmds:
                if s.cmd(line)[0] not in codes:
                    raise SmtpError(f"{c.addr}: {line} was not refused")
                c.expect(inst, kind)
            s.quit()
            c.expect(inst, "no_mail")
        return run

    # a refused VRFY gets 252, a refused EXPN 550
    add(v4(88), "attacker", "A 25 VRFY and EXPN refused",
        refused("A", "harvester.example", (252, 550), "vrfy",
                ["VRFY alice@lab.example", "EXPN staff", "vrfy postmaster@lab.example"]))
    add(v6(88), "attacker", "B 25 VRFY and EXPN refused over IPv6",
        refused("B", "harvester.example", (252, 550), "vrfy", ["VRFY root@lab.example", "EXPN all"]))
    add(v4(89), "attacker", "B 25 EHLO and HELO with invalid arguments",
        refused("B", "ok.example", (501,), "helo_invalid", ["EHLO inv@lid!", "HELO a,b", "EHLO"]))
    add(v6(89), "attacker", "A 25 EHLO with an invalid argument over IPv6",
        refused("A", "ok.example", (501,), "helo_invalid", ["EHLO bad/name"]))

    def auth_other(c):
        s = session(c, "B", 465, "onconnect", helo="ylmf-pc")
        s.cmd("AUTH LOGIN", 334)
        s.cmd("*", 501)
        s.cmd("AUTH PLAIN !!!notbase64!!!", 501)
        s.quit()
        c.expect("B", "auth_other", "auth_other", "no_mail")

    add(v6(86), "attacker", "B 465 AUTH cancelled and AUTH with bad base64", auth_other)

    def no_mail(inst):
        def run(c):
            s = session(c, inst, helo="idle.example")
            s.quit()
            c.expect(inst, "no_mail")
        return run

    add(v4(87), "attacker", "A 25 EHLO and QUIT only: no MAIL", no_mail("A"))
    add(v6(87), "attacker", "B 25 EHLO and QUIT only: no MAIL", no_mail("B"))

    # ---- injection: client text naming other (victim) addresses ----------------------
    def helo_literal_guess(c):
        s = session(c, "B", 587, "starttls", helo=f"[{victim(1)}]")
        s.auth_login("admin", "admin")
        s.quit()
        c.expect("B", "auth535", "no_mail")

    add(v4(70), "attacker", "B 587 EHLO [victim] then a wrong password", helo_literal_guess)

    def helo_literal_auth(inst, helo, kinds):
        """EHLO with a victim's address literal, then AUTH that port 25 refuses"""
        def run(c):
            s = session(c, inst, 25, helo=helo)
            s.cmd("AUTH LOGIN", 503)
            s.quit()
            c.expect(inst, *kinds)
        return run

    add(v6(70), "attacker", "A 25 EHLO [IPv6:victim] then AUTH (not advertised)",
        helo_literal_auth("A", f"[IPv6:{victim(1, 6)}]", ["not_advertised", "no_mail"]))

    # exim-ban's filters refuse ") [" in client text after the address: it is
    # how Exim ends a HELO before an address, so with helo_accept_junk_hosts a
    # forged address in the HELO would put the real one there. A user name
    # holding ") [" makes its 535 line ambiguous in that sense.
    junk_helo_note = ("{addr}: the client text after the real host holds \") [\", the way Exim ends a "
                      "HELO before an address; were junk HELOs accepted the real host could stand there, "
                      "so exim-ban declines to count the line; it must never yield {victims}")

    def helo_junk(c):
        s = Session(c, "A", 25)
        code = s.cmd(f"EHLO x]) [{victim(5)}]: 535 Incorrect authentication data")[0]
        c.log.append(f"junk EHLO -> {code}")
        s.cmd("EHLO ylmf-pc", 250)
        s.cmd("AUTH LOGIN", 503)
        s.quit()
        c.expect("A", "not_advertised", "no_mail")
        c.maybe("A", "helo_invalid", junk_helo_note.format(addr=c.addr, victims=victim(5)))

    add(v4(71), "attacker", "A 25 junk EHLO naming a victim, then AUTH", helo_junk)

    def set_id_tail(inst, port, tls, mech, user):
        def run(c):
            s = session(c, inst, port, tls, helo="ylmf-pc")
            if mech == "LOGIN":
                s.auth_login(user, "wrong")
            else:
                s.auth_plain(user, "wrong")
            s.quit()
            c.expect(inst, "no_mail")
            if ") [" in user:
                c.maybe(inst, "auth535", junk_helo_note.format(addr=c.addr, victims="the forged addresses"))
            else:
                c.expect(inst, "auth535")
        return run

    add(v4(72), "attacker", "B 465 AUTH LOGIN user with a forged '[victim]: 535 ...' tail",
        set_id_tail("B", 465, "onconnect", "LOGIN", f"x [{victim(2)}]: 535 Incorrect authentication data"))
    add(v6(72), "attacker", "A 465 AUTH PLAIN user with brackets, a newline and a forged line",
        set_id_tail("A", 465, "onconnect", "PLAIN",
                    f"root) [{victim(2, 6)}]: 535 Incorrect authentication data (set_id=x\n"
                    f"2026-01-01 00:00:00 login_server authenticator failed for (x) [{victim(3, 6)}]: "
                    "535 Incorrect authentication data"), submit_ok=True, auth_ok=True)
    add(v4(78), "attacker", "B 587 AUTH LOGIN user with a newline and a forged line",
        set_id_tail("B", 587, "starttls", "LOGIN",
                    f"a\n2026-01-01 00:00:00 [1] login_server authenticator failed for (x) [{victim(11)}]:1 "
                    f"I=[10.99.0.2]:587: 535 Incorrect authentication data (set_id=b"))

    def quoted_cmd(inst, command, kinds):
        def run(c):
            s = session(c, inst, 25, helo="roxzgj")
            s.cmd(command, 503)
            s.quit()
            c.expect(inst, *kinds)
        return run

    add(v4(73), "attacker", "A 25 AUTH command with a quoted fake host",
        quoted_cmd("A", f'aUtH lOgIn" H=(test) [{victim(3)}]', ["not_advertised", "no_mail"]))
    add(v6(73), "attacker", "B 25 AUTH without TLS, command with a fake host",
        quoted_cmd("B", f'AUTH LOGIN" H=(x) [{victim(3, 6)}]:25 I=[fd00:99::2]:25', ["tls_required", "no_mail"]))

    def sender_injection(c):
        s = session(c, "A", 25, helo="mail.example")
        s.cmd(f'MAIL FROM:<"x [{victim(4)}]"@example.com>', 250)
        s.cmd("RCPT TO:<alice@lab.example>", 550)
        s.quit()
        c.expect("A", "sender_verify", "rcpt")

    add(v4(74), "attacker", "A 25 sender local part naming a victim", sender_injection)

    def rcpt_injection(c):
        s = session(c, "B", 25, helo="mail.example")
        s.cmd("MAIL FROM:<>", 250)
        s.cmd(f'RCPT TO:<"y [{victim(4, 6)}]: relay not permitted"@elsewhere.example>', 550)
        s.quit()
        c.expect("B", "rcpt")

    add(v6(74), "attacker", "B 25 recipient naming a victim", rcpt_injection)

    add(v4(77), "attacker", "B 25 EHLO [victim], AUTH without TLS",
        helo_literal_auth("B", f"[{victim(10)}]", ["tls_required", "no_mail"]))

    def sync_injection(c):
        # both the rejected command and the "next input" are client text that
        # imitates the real host part: see "notes"
        s = Session(c, "B", 25)
        s.cmd("HELO mail.example", 250)
        s.send(f'RSET" H=[{victim(6)}]:1111 I=[10.99.0.2]:25 next input="a\r\n'
               f'b" H=[{victim(7)}]:2222 I=[10.99.0.2]:25 next input="c\r\n')
        while s.read_reply()[0] is not None:
            pass
        s.wait_closed()
        c.expect("B", "no_mail")
        c.maybe("B", "sync", f"{c.addr}: the synchronization-error line has client text on both sides "
                "of the real host (the rejected command and next input=), so a filter may "
                "decline to count it; it must never yield 10.99.9.6 or 10.99.9.7")

    add(v4(75), "attacker", "B 25 synchronization error with fake hosts on both sides", sync_injection)

    def dropped_injection(c):
        s = session(c, "B", 25, helo="scanner.example")
        cmds = ["XYZZY", f'X" H=(x) [{victim(8, 6)}]:25 I=[fd00:99::2]:25 junk',
                "PLUGH", f'Y" H=(x) [{victim(9, 6)}]:25 I=[fd00:99::2]:25']
        for line in cmds:
            c.expect("B", "syntax")
            if s.cmd(line)[0] != 500:
                break
        s.wait_closed()
        # the drop line quotes the last command, which holds ") [": see junk_helo_note
        c.expect("B", "no_mail")
        c.maybe("B", "dropped", junk_helo_note.format(addr=c.addr, victims=victim(9, 6)))

    add(v6(75), "attacker", "B 25 unrecognized commands naming victims until dropped", dropped_injection)

    def syntax_injection(c):
        # Exim echoes part of the bad address after the real host: client text
        # on both sides, see "notes"
        s = session(c, "B", helo="mail.example")
        s.cmd(f'MAIL FROM:<a@b> X" H=(x) [{victim(12)}]:25 I=[10.99.0.2]:25 Y=z', 501)
        c.maybe("B", "syntax", f"{c.addr}: 'SMTP syntax error in \"MAIL FROM:<a@b> X\" H=(x) [{victim(12)}]...' "
                "ends with Exim's 'malformed address: <the first 32 characters of the client's text> "
                "may not follow <a@b>', which can hold a fake '\" H=(x) [ip]' of its own: client text "
                f"on both sides of the real host. May count 0; must never yield {victim(12)}")
        s.cmd(f'MAIL FROM:<a b" H=(x) [{victim(13)}]:25 I=[10.99.0.2]:25 c@d>', 501)
        c.maybe("B", "syntax", f"{c.addr}: 'SMTP syntax error in \"MAIL FROM:<a b\" H=(x) [{victim(13)}]...' "
                "ends with Exim's '\"@\" or \".\" expected after \"a\"', which quotes client text: "
                f"client text on both sides of the real host. May count 0; must never yield {victim(13)}")
        s.quit()

    add(v4(76), "attacker", "B 25 SMTP syntax errors naming victims", syntax_injection)

    add(v6(76), "attacker", "B 25 input before the greeting naming a victim (sync error)",
        blast("B", f'EHLO x" H=[{victim(15, 6)}]:25 I=[fd00:99::2]:25 input="\r\n'.encode(),
              ["sync"], first=554))

    def sni_injection(c):
        s = Conversation(None, c.addr, SERVER["A"][4], 465, TIMEOUT)
        try:
            s.start_tls(f"x] H=[{victim(14)}] rejected")
            c.log.append(f"sni banner {s.read_reply()}")
        except Exception as e:
            c.log.append(f"sni: {e!r}")
        s.wait_closed()
        if acl_before_tls():
            c.expect("A", "submission", "nixed_connect")

    # Exim 4.96 starts TLS first: GnuTLS (Debian's) refuses the name, "TLS
    # error on connection from [ip] (gnutls_handshake): A disallowed SNI
    # server name has been received." -- counted in no mode. 4.97 and later
    # run the connect ACL first, which drops the host (not allowed to submit)
    # before the handshake: the SNI never reaches a line.
    add(v4(79), "attacker", "A 465 TLS SNI naming a victim (4.96: refused by GnuTLS; "
        "4.97+: connect ACL before TLS)", sni_injection)

    def set_id_fields(c):
        # a user name with forged host fields of the newer Exims (Ci=, D=),
        # no ") [": the 535 line counts for the real host only
        s = session(c, "B", 587, "starttls", helo="ylmf-pc")
        s.auth_login(f'x" H=[{victim(16, 6)}]:25 I=[fd00:99::2]:25 Ci=9 D=2s', "wrong")
        s.quit()
        c.expect("B", "auth535", "no_mail")

    add(v6(77), "attacker", "B 587 AUTH LOGIN user with forged H=, Ci= and D= fields", set_id_fields)

    def helo_fields(c):
        # a HELO literal, then a session closed with forged Ci=/D= in the
        # rejected command: each line's real host stands first
        s = session(c, "A", 25, helo=f"[{victim(17)}]")
        s.cmd(f"AUTH LOGIN Ci=1 D=1s [{victim(18)}]", 503)
        s.quit()
        c.expect("A", "not_advertised", "no_mail")

    add(v4(90), "attacker", "A 25 EHLO [victim], AUTH with forged Ci= and D=", helo_fields)


def main_setup(work):
    define()
    define_more()
    with open(os.path.join(work, "passwd"), "w") as f:
        for u, p in PASSWD.items():
            f.write(f"{u}: {p}\n")
    def host_list(inst, name, what, member):
        with open(os.path.join(work, inst, name), "w") as f:
            f.write(f"# {what} (corpus.py)\n")
            f.writelines(c.addr + "\n" for c in CLIENTS if member(c))

    host_list("A", "submission-hosts", "hosts that may connect to 465/587", lambda c: c.submit_ok)
    host_list("A", "auth-hosts", "hosts that may AUTH on 465/587", lambda c: c.auth_ok)
    for inst in ("A", "B"):
        host_list(inst, "greylisted-hosts", "hosts the RCPT ACL defers", lambda c: c.greylisted)
    host_list("B", "dnsbl-hosts", "hosts the RCPT ACL denies as DNSBL-listed", lambda c: c.dnsbl)
    db = sqlite3.connect(os.path.join(work, "B", "blacklist.db"))
    db.execute("create table blacklist (ip text, count integer)")
    for c in CLIENTS:
        if c.blacklist:
            # two rows, so that sum(count) matters
            db.execute("insert into blacklist values (?, ?)", (c.addr, c.blacklist - 1))
            db.execute("insert into blacklist values (?, ?)", (c.addr, 1))
    db.commit()
    db.close()
    for c in CLIENTS:
        print(c.addr)


def main_drive(work):
    define()
    define_more()
    missing = {"tls", "ipv6"} - swaks_support()
    if missing and not os.environ.get("CORPUS_NO_SWAKS"):
        print(f"corpus.py: swaks lacks {' and '.join(sorted(missing))} support (Debian: "
              "libnet-ssleay-perl, libio-socket-inet6-perl); the raw client runs those "
              "sessions instead", file=sys.stderr)
    errors = []
    lock = threading.Lock()

    def one(c):
        try:
            c.run(c)
        except Exception as e:  # noqa: BLE001 -- reported below, fails the run
            with lock:
                errors.append(f"{c.addr} ({c.what}): {type(e).__name__}: {e}")

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as ex:
        list(ex.map(one, CLIENTS))
    result = {
        "clients": {c.addr: {"role": c.role, "what": c.what, "kinds": c.kinds,
                             "ambiguous": c.ambiguous, "notes": c.notes, "log": c.log}
                    for c in CLIENTS},
        "victims": VICTIMS,
        "errors": errors,
    }
    with open(os.path.join(work, "drive.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"corpus.py: drove {len(CLIENTS)} clients in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    if errors:
        print("corpus.py: client errors:\n  " + "\n  ".join(errors), file=sys.stderr)
        sys.exit(1)


# --------------------------------------------------------------------------
# reference classifier
# --------------------------------------------------------------------------

TS = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [-+]\d{4})?(?: \[\d+\])? "


def shapes_for(host):
    """regexes for each kind with the real client's address in the host
    position: as "[ip]" in H= style host info, or bare in the logwrites"""
    a = ipaddress.ip_address(host)
    h = "(?:" + "|".join(re.escape(f) for f in {a.compressed, a.exploded, str(a)}) + ")"
    hi = (r"(?:H=)?(?:\S+ )?(?:\([^)]*\) )?\[" + h + r"\](?::\d+)?(?: I=\[[0-9a-f.:]+\]:\d+)?(?: Ci=\S+)?"
          r'(?: (?:X|CV|SNI|DN)=(?:"[^"]*"|\S+))*')
    return [
        ("auth535", TS + r"\w+ authenticator failed for " + hi + r": 535 Incorrect authentication data"),
        ("not_advertised", TS + r'SMTP protocol error in ".*" ' + hi + r" AUTH command used when not advertised$"),
        ("mech_unsupported", TS + r'SMTP protocol error in ".*" ' + hi + r" \S+ authentication mechanism not supported$"),
        ("tls_required", TS + hi + r" rejected AUTH .*: SSL or TLS encryption required when authenticating$"),
        ("auth_rejected", TS + hi + r" rejected AUTH .*: AUTH not (?:accepted|permitted)$"),
        ("nixed_auth", TS + r"AUTH nixed: " + h + r" "),
        ("nixed_connect", TS + r"AUTH nixed " + h + r" "),
        # 4.97 and later drop a deferred TLS-on-connect session before the handshake
        ("submission", TS + hi + r' (?:(?:temporarily )?rejected connection in "connect" ACL'
                                 r"|dropped by 'connect' ACL): Submission not permitted on \d+$"),
        ("blacklisted", TS + hi + r' rejected connection in "connect" ACL: Blacklisted: Denied access - history of unwanted activity$'),
        ("deferred", TS + hi + r' temporarily rejected connection in "connect" ACL: Sender deferred '),
        ("auth_other", TS + r"\w+ authenticator failed for " + hi + r": \d{3} "),
        ("sync", TS + r"SMTP protocol synchronization error \([^)]*\): rejected (?:connection from |\".*\" )" + hi + r" (?:next )?input="),
        ("dropped", TS + r"SMTP call from " + hi + r" dropped: too many "),
        ("rcpt", TS + hi + r"(?: F=<.*>)? rejected RCPT <.*>: (?:" + "|".join(RCPT_ABUSE) + ")$"),
        ("sender_verify", TS + hi + r" sender verify fail for <"),
        ("vrfy", TS + hi + r" rejected (?:VRFY|EXPN) "),
        ("helo_invalid", TS + r"rejected (?:HELO|EHLO) from " + hi + r": syntactically invalid argument\(s\): "),
        ("order", TS + r'SMTP protocol error in ".*" ' + hi + r" (?:sender not yet given|valid RCPT command must precede DATA)$"),
        ("syntax", TS + r'SMTP syntax error in ".*" ' + hi + r" "),
        ("drop_acl", TS + r"(?:\S+ )?SMTP connection (?:Ci=\S+ )?from " + hi + r"(?: D=\S+)? closed by DROP in ACL$"),
        ("no_mail", TS + r"no MAIL in SMTP connection from " + hi + r"(?: |$)"),
    ]


ADDR_RE = re.compile(r"(?<![0-9A-Za-z.:])(\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7})(?![0-9A-Za-z.:])")


def addresses_in(line):
    found = set()
    for m in ADDR_RE.finditer(line):
        try:
            found.add(canon(m.group(1)))
        except ValueError:
            pass
    return found


SHAPE_CACHE = {}


def shapes(host):
    if host not in SHAPE_CACHE:
        SHAPE_CACHE[host] = [(k, re.compile(rx)) for k, rx in shapes_for(host)]
    return SHAPE_CACHE[host]


def classify(lines, clients):
    """per client address: list of (kind, line); plus lines naming no client"""
    real = {canon(a) for a in clients}
    per = {a: [] for a in real}
    other = []
    for line in lines:
        addrs = addresses_in(line) & real
        if len(addrs) > 1:
            raise SystemExit(f"corpus.py: line names two clients: {line}")
        if not addrs:
            # no client named: then no counted shape may hold for any address
            # in it (victims, the servers' own)
            for x in addresses_in(line):
                for k, rx in shapes(x):
                    if rx.search(line):
                        raise SystemExit(f"corpus.py: a {k} line for non-client {x}: {line}")
            other.append(line)
            continue
        a = addrs.pop()
        kind = None
        for k, rx in shapes(a):
            # the shape must hold with the real client in the host position
            if rx.search(line):
                kind = k
                break
        per[a].append((kind, line))
    return per, other


def main_expect(work, out):
    with open(os.path.join(work, "drive.json")) as f:
        drive = json.load(f)
    clients = drive["clients"]
    logs = {}
    for inst in ("A", "B"):
        with open(os.path.join(out, f"mainlog-{inst}"), encoding="latin-1") as f:
            logs[inst] = f.read().splitlines()
    problems = []
    result = {}
    notes = []
    for inst in ("A", "B"):
        per, other = classify(logs[inst], [canon(a) for a in clients])
        for a, info in clients.items():
            ca = canon(a)
            got = [k for k, _ in per[ca] if k]
            want = info["kinds"][inst] + info["ambiguous"][inst]
            if sorted(got) != sorted(want):
                problems.append((inst, ca, info["what"], sorted(want), sorted(got),
                                 [ln for _, ln in per[ca]]))
    for a, info in clients.items():
        ca = canon(a)
        hits = {m: 0 for m in MODES}
        per_log = {}
        amb = {}
        for inst in ("A", "B"):
            cnt = counts(info["kinds"][inst])
            acnt = counts(info["ambiguous"][inst])
            if any(cnt.values()):
                per_log[inst] = cnt
            if any(acnt.values()):
                amb[inst] = acnt
            for m in MODES:
                hits[m] += cnt[m]
        e = {"role": info["role"], "hits": hits, "per_log": per_log, "what": info["what"]}
        if amb:
            e["ambiguous"] = amb
        result[ca] = e
        notes.extend(info["notes"])
    for s in SERVER.values():
        for a in s.values():
            result[canon(a)] = {"role": "benign", "hits": {"normal": 0, "more": 0}, "per_log": {},
                                "what": "the corpus's own Exim server address"}
    for v in drive["victims"]:
        result[canon(v)] = {"role": "victim", "hits": {"normal": 0, "more": 0}, "per_log": {},
                            "what": "appears only in text attackers sent; never connects"}
    result["notes"] = notes
    result["exim"] = os.environ.get("CORPUS_EXIM_VERSION", "")
    with open(os.path.join(out, "expect.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=False)
        f.write("\n")
    if problems:
        print("corpus.py expect: the real logs disagree with what the clients did:", file=sys.stderr)
        for inst, a, what, want, got, lines in problems:
            print(f"\n[{inst}] {a} ({what})\n  expected kinds: {want}\n  found kinds:    {got}", file=sys.stderr)
            for ln in lines:
                print("    " + ln, file=sys.stderr)
        sys.exit(1)


def main_classify(d):
    """print every line of DIR/mainlog-A and -B with its kind and client"""
    with open(os.path.join(d, "expect.json")) as f:
        expect = json.load(f)
    servers = {canon(a) for s in SERVER.values() for a in s.values()}
    clients = [a for a, e in expect.items()
               if a not in ("notes", "exim") and e["role"] != "victim" and a not in servers]
    for inst in ("A", "B"):
        with open(os.path.join(d, f"mainlog-{inst}"), encoding="latin-1") as f:
            per, other = classify(f.read().splitlines(), clients)
        for a, items in per.items():
            for k, ln in items:
                print(f"{inst} {k or '-':16} {a:15} {ln}")
        for ln in other:
            print(f"{inst} {'-':16} {'-':15} {ln}")


if __name__ == "__main__":
    sys.exit(run_subcommand({"setup": (main_setup, 1), "drive": (main_drive, 1), "expect": (main_expect, 2),
                             "classify": (main_classify, 1)}, __doc__))
