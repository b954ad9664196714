#!/usr/bin/env python3
"""mail_stack.py -- the Python side of the mail-stack test (README.md).

  mail_stack.py setup WORK     Dovecot's configuration and users, Exim's
                               LOGIN passwd file; prints the client
                               addresses (the shell puts them on the
                               client veth)
  mail_stack.py run WORK BAND BANCTL NS_SERVER
                               (inside the client namespace) exim-band in
                               the server namespace, the four scenarios,
                               the figures

The clients are dovecot-corpus's (corpus.py: Session, Protocol), the probe
is exim-e2e's (probe.py), exim-band is band_harness's Band."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
for d in ("support", "dovecot-corpus", "exim-e2e"):
    sys.path.insert(0, os.path.join(HERE, "..", d))
import corpus  # noqa: E402  (dovecot-corpus's clients)
from band_harness import Band, wait_for  # noqa: E402
from failure import Failure  # noqa: E402
from probe import probe_one  # noqa: E402

SERVER = "10.97.0.1"
BOT, PHONE, QUEUE = "10.97.0.10", "10.97.0.20", "10.97.0.30"
ADDRESSES = (BOT, PHONE, QUEUE)
USERS = {"alice": "alice-pw-1", "bob": "bob-pw-2"}
LOGIN_USERS = {"alice": "alice-login-pw"}   # the plaintext authenticator's file
MAXRETRY = 5
STALE_RETRIES = 30
PORTS = {"smtp": 25, "pop3": 110, "imap": 143, "submission": 587, "managesieve": 4190}
WAIT = 20.0   # seconds: every bounded wait for the daemon, the store, the kernel

SERVER6 = "fd00:97::1"
# dovecot-corpus's Dovecot 2.3 instance, with what this test changes after
# it (a later setting wins): plaintext logins (the clients skip STARTTLS), no
# fixed delay of failures, and the auth-client socket for Exim's dovecot
# authenticator, which connects as Debian-exim
DOVECOT_EXTRA = """\
disable_plaintext_auth = no
auth_failure_delay = 0
service auth {
  unix_listener auth-exim {
    mode = 0666
  }
}
"""


def setup(work):
    os.makedirs(os.path.join(work, "dovecot"))
    os.makedirs(os.path.join(work, "home"))
    os.chmod(os.path.join(work, "home"), 0o1777)
    with open(os.path.join(work, "users"), "w") as f:
        for user, secret in USERS.items():
            f.write(f"{user}:{{PLAIN}}{secret}::::::\n")
    with open(os.path.join(work, "dovecot", "dovecot.conf"), "w") as f:
        f.write(corpus.CONF_23.format(version="2.3", inst="dovecot", work=work, protocols="imap pop3 sieve",
                                      verbose="yes", username_chars="",
                                      log_path=os.path.join(work, "dovecot", "dovecot.log"),
                                      v4=SERVER, v6=SERVER6) + DOVECOT_EXTRA)
    with open(os.path.join(work, "exim-passwd"), "w") as f:
        for user, secret in LOGIN_USERS.items():
            f.write(f"{user}: {secret}\n")
    os.chmod(os.path.join(work, "exim-passwd"), 0o644)
    for address in ADDRESSES:
        print(address + "/24")


def band_config(work):
    return f"""[DEFAULT]
ignoreself = true
database = {work}/band/state.db
socket = {work}/band/control.sock
trust_file = {work}/trusted-hosts
trust_maxretry = 40

[mail]
enabled = true
logpath = {work}/log/mainlog
filter = exim
maxretry = {MAXRETRY}
findtime = 10m
bantime = 10m

[mail/dovecot]
logpath = {work}/dovecot/dovecot.log
filter = dovecot
"""


class Stack:
    """exim-band in the server namespace, and what the test reads of it"""

    def __init__(self, work, band, banctl, ns):
        self.work, self.banctl, self.ns = work, banctl, ns
        self.band = Band(band, os.path.join(work, "band"), [])
        with open(self.band.config, "w") as f:
            f.write(band_config(work))
        self.prefix = ("ip", "netns", "exec", ns)

    def start(self):
        self.band.start(dry_run=False, prefix=self.prefix)

    def ctl(self, *args):
        r = subprocess.run([self.banctl, *args, "--config", self.band.config], capture_output=True,
                           text=True, timeout=30)
        if r.returncode != 0:
            raise Failure("exim-banctl %s: %s" % (" ".join(args), r.stderr.strip()))
        return r.stdout

    def trust(self):
        """{(key, account)} from exim-banctl trust list --json"""
        reply = json.loads(self.ctl("trust", "list", "--json"))
        return {(t["key"], t["account"]) for t in reply["trust"]}

    def trust_of(self, ip):
        return json.loads(self.ctl("trust", "show", ip, "--json"))["trust"]

    def banned(self, ip):
        """ip is an element of the kernel set mail_v4"""
        r = subprocess.run([*self.prefix, "nft", "list", "set", "inet", "exim_ban", "mail_v4"],
                           capture_output=True, text=True, timeout=10)
        return re.search(r"(?<![\d.])%s(?![\d.])" % re.escape(ip), r.stdout) is not None

    def stored_hits(self, ip):
        return sum(1 for address, _ in self.band.hits() if address == ip)

    def stored_mistakes(self, ip):
        with self.band.reader() as db:
            return db.execute("SELECT count(*) FROM trust_mistakes WHERE key = ?", (ip,)).fetchone()[0]

    def stored_ban(self, ip):
        return [b for b in self.band.bans() if b[1] == ip]

    def replayed_hits(self, ip):
        """the hits exim-banctl test counts for ip, replaying the jail's two
        logs (Exim's mainlog and Dovecot's log) as they are now"""
        r = subprocess.run([self.banctl, "test", "--json", "--config", self.band.config, "--jail", "mail"],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise Failure("exim-banctl test: " + r.stderr)
        return json.loads(r.stdout)["hosts"].get(ip, 0)

    def committed_offset(self, path):
        with self.band.reader() as db:
            row = db.execute("SELECT offset FROM files WHERE path = ?", (path,)).fetchone()
        return row[0] if row else 0

    def settle(self):
        """Waits until the store's committed offsets are at the end of both
        logs (the batch delay commits lines that add nothing). Why: a failed
        Dovecot attempt is two lines, the auth process's (counted) and the
        login process's summary (counted 0: the session memory says it was
        counted), and that memory is not stored. A stop before the summary
        is committed counts the attempt again after the start (README.md)."""
        for path in (os.path.join(self.work, "dovecot", "dovecot.log"),
                     os.path.join(self.work, "log", "mainlog")):
            wait_for("the store's offset at the end of " + path,
                     lambda: self.committed_offset(path) == os.path.getsize(path), WAIT)

    def trusted_file(self):
        try:
            with open(os.path.join(self.work, "trusted-hosts")) as f:
                return f.read().split()
        except FileNotFoundError:
            return []


# --- the clients ------------------------------------------------------------------

def login(src, service, user, secret):
    """one session, one login attempt: True when accepted"""
    p = corpus.Protocol(service, corpus.Session(src, SERVER, PORTS[service]))
    p.greet()
    ok = p.login(user, secret)
    p.quit()
    return ok


def logins(src, service, attempts):
    """the (user, secret) attempts, each its own session, all at once
    (Dovecot's auth penalty delays each failure by seconds: in parallel it
    is waited out once)"""
    with ThreadPoolExecutor(max_workers=len(attempts)) as ex:
        return list(ex.map(lambda a: login(src, service, *a), attempts))


def swaks(src, auth, user, secret, extra=()):
    r = subprocess.run(["swaks", "--server", SERVER, "--port", "587", "--local-interface", src,
                        "--tls", "--auth", auth, "--auth-user", user, "--auth-password", secret,
                        "--from", f"{user}@mail-stack.example", "--to", "bob@mail-stack.example",
                        "--timeout", "30", *extra], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def probe(src, ports):
    with ThreadPoolExecutor(max_workers=len(ports)) as ex:
        return dict(zip(ports, ex.map(lambda port: probe_one(src, SERVER, port), ports)))


# --- the scenarios ---------------------------------------------------------------------

def say(text):
    print("mail-stack: " + text, flush=True)


def check(condition, text):
    if not condition:
        raise Failure(text)


def restart(stack, sig):
    code = stack.band.stop(sig)
    stack.start()
    return code


def bot(stack, figures):
    """scenario 1 (with 4's SIGTERM restart between its IMAP and SMTP parts)"""
    results = logins(BOT, "imap", [("carol", "guess-1"), ("dave", "guess-2"), ("carol", "guess-3")])
    check(not any(results), "a guess of the bot was accepted")
    wait_for("the bot's 3 IMAP failures in the store", lambda: stack.stored_hits(BOT) >= 3, WAIT)
    imap_hits = stack.stored_hits(BOT)
    check(imap_hits == 3 == stack.replayed_hits(BOT),
          "bot after 3 IMAP failures: store %d hits, replay %d, want 3" % (imap_hits, stack.replayed_hits(BOT)))
    check(not stack.banned(BOT), "the bot is banned after 3 hits")
    stack.settle()
    restart(stack, signal.SIGTERM)
    check(stack.stored_hits(BOT) == 3, "the bot's hits after a SIGTERM restart: %d" % stack.stored_hits(BOT))
    attempts = []
    while True:
        before = stack.stored_hits(BOT)
        check(before < MAXRETRY and not stack.banned(BOT),
              "bot banned (or %d hits) before the attempt that reaches %d" % (before, MAXRETRY))
        t0 = time.monotonic()
        code, out = swaks(BOT, "PLAIN", "admin", "guess-smtp")
        want = stack.replayed_hits(BOT)
        # the attempt that bans may lose its reply to the ban (a timeout)
        check(code != 0 and (want >= MAXRETRY or re.search(r"<\*\* 4\d\d", out)),
              "the bot's AUTH on 587 was not deferred:\n" + out)
        check(want > before, "the mainlog shows no hit for the bot's SMTP attempt")
        attempts.append(want - before)
        if want >= MAXRETRY:
            wait_for("the bot in the kernel set mail_v4", lambda: stack.banned(BOT), WAIT)
            figures["bot in mail_v4"] = ("%.2f s after the start of the attempt that reached %d hits"
                                         % (time.monotonic() - t0, MAXRETRY))
            break
        wait_for("the bot's %d hits in the store" % want, lambda: stack.stored_hits(BOT) >= want, WAIT)
        check(stack.stored_hits(BOT) == want, "bot: store %d hits, mainlog+dovecot.log %d"
              % (stack.stored_hits(BOT), want))
    check(stack.stored_ban(BOT), "no ban of the bot in the store")
    figures["bot hits"] = "IMAP 3 + SMTP %s = %d" % (" + ".join(map(str, attempts)), 3 + sum(attempts))
    results = probe(BOT, sorted(PORTS.values()))
    check(all(r.startswith("timeout") for r in results.values()), "the banned bot is answered: %s" % results)
    figures["bot probes"] = "%d/%d ports timed out" % (len(results), len(results))


def phone(stack, figures):
    """scenario 2 (with 4's kill -9 after 15 stale retries)"""
    check(login(PHONE, "imap", "alice", USERS["alice"]), "alice's login from the phone was refused")
    wait_for("trust of (%s, alice)" % PHONE, lambda: (PHONE, "alice") in stack.trust(), WAIT)
    half = STALE_RETRIES // 2
    for part in (1, 2):
        results = logins(PHONE, "imap", [("alice", "stale-pw")] * half)
        check(not any(results), "a stale password was accepted")
        wait_for("%d excused mistakes of the phone" % (part * half),
                 lambda: stack.stored_mistakes(PHONE) >= part * half, WAIT)
        check(stack.stored_hits(PHONE) == 0 and not stack.banned(PHONE),
              "the phone has %d hits after %d stale retries" % (stack.stored_hits(PHONE), part * half))
        if part == 1:
            stack.settle()
            code = restart(stack, signal.SIGKILL)
            check((PHONE, "alice") in stack.trust(), "the phone's trust is gone after kill -9")
            check(stack.stored_mistakes(PHONE) == half, "excused mistakes after kill -9: %d, want %d"
                  % (stack.stored_mistakes(PHONE), half))
            figures["kill -9"] = "exit %d, trust and %d excused mistakes kept" % (code, half)
    check(stack.stored_mistakes(PHONE) == STALE_RETRIES,
          "excused mistakes: %d, want %d" % (stack.stored_mistakes(PHONE), STALE_RETRIES))
    check(probe(PHONE, [PORTS["imap"]])[PORTS["imap"]].startswith("connected"),
          "the phone is not answered after %d stale retries" % STALE_RETRIES)
    for n in range(1, MAXRETRY + 1):
        check(not stack.banned(PHONE), "the phone is banned after %d failures for bob" % (n - 1))
        try:
            check(not login(PHONE, "imap", "bob", "guess-%d" % n), "bob's guess accepted")
        except (OSError, EOFError):
            # the failure that bans may lose its reply to the ban
            check(n == MAXRETRY, "failure %d for bob from the phone got no answer" % n)
        if n < MAXRETRY:
            wait_for("%d hits of the phone" % n, lambda: stack.stored_hits(PHONE) >= n, WAIT)
            check(stack.stored_hits(PHONE) == n, "the phone: %d hits, want %d" % (stack.stored_hits(PHONE), n))
    wait_for("the phone in the kernel set mail_v4", lambda: stack.banned(PHONE), WAIT)
    check(stack.trust_of(PHONE) == [], "the banned phone is still trusted: %s" % stack.trust_of(PHONE))
    figures["phone"] = "%d stale retries excused, banned at failure %d for bob" % (STALE_RETRIES, MAXRETRY)


def imap_before_submission(stack, figures):
    """scenario 3"""
    check(QUEUE not in stack.trusted_file(), "Q is trusted before any login")
    code, out = swaks(QUEUE, "PLAIN", "alice", USERS["alice"])
    check(code != 0 and re.search(r"<\*\* 4\d\d .*Submission not permitted", out),
          "AUTH on 587 before Q's first IMAP login was not deferred:\n" + out)
    check(login(QUEUE, "imap", "alice", USERS["alice"]), "alice's IMAP login from Q was refused")
    t0 = time.monotonic()
    wait_for("Q in the trust_file", lambda: QUEUE in stack.trusted_file(), WAIT)
    figures["trust_file latency"] = "%.2f s" % (time.monotonic() - t0)
    code, out = swaks(QUEUE, "PLAIN", "alice", USERS["alice"])
    check(code == 0 and "<~  235 " in out and re.search(r"<~  250 .*id=", out),
          "AUTH PLAIN (dovecot authenticator) on 587 from trusted Q failed:\n" + out)
    code, out = swaks(QUEUE, "LOGIN", "alice", LOGIN_USERS["alice"])
    check(code == 0 and "<~  235 " in out and re.search(r"<~  250 .*id=", out),
          "AUTH LOGIN (plaintext authenticator) on 587 from trusted Q failed:\n" + out)
    figures["Q"] = "587 deferred before the IMAP login, AUTH PLAIN (dovecot) and LOGIN (plaintext) accepted after"


def run(work, band, banctl, ns):
    t0 = time.monotonic()
    stack = Stack(work, band, banctl, ns)
    figures = {}
    stack.start()
    try:
        for scenario in (imap_before_submission, phone, bot):
            scenario(stack, figures)
            say("%s: ok" % scenario.__name__)
        check(stack.band.stop() == 0, "exim-band did not exit 0")
    except Failure as e:
        for k, v in figures.items():
            say("%s: %s" % (k, v))
        say("FAIL: %s" % e)
        if stack.band.process is not None:
            stack.band.stop(signal.SIGKILL)
        return 1
    for k, v in figures.items():
        say("%s: %s" % (k, v))
    say("PASS in %.0f s" % (time.monotonic() - t0))
    return 0


def main():
    if sys.argv[1] == "setup":
        setup(sys.argv[2])
        return 0
    return run(*sys.argv[2:6])


if __name__ == "__main__":
    sys.exit(main())
