#!/usr/bin/env python3
"""corpus.py -- the clients of the Dovecot corpus and the truth they imply.

Called by run-corpus in three steps:
  corpus.py setup WORK VERSION PROTOCOLS
                               write the users file and the configurations of
                               the instances (INSTANCES; 2.3 or 2.4 syntax
                               after VERSION); print every client address
                               (run-corpus puts them on the client veth)
  corpus.py drive WORK         (inside the client namespace) run every
                               scripted client against every instance; write
                               WORK/truth.json: one entry per client action
  corpus.py expect WORK OUT    read OUT/INSTANCE.log for each instance, classify
                               every login-process line with a reference
                               classifier that knows the real client
                               addresses, compare with truth.json, write
                               OUT/truth.json and OUT/expect.json; exit 1 on
                               any disagreement
and by hand:
  corpus.py classify DIR       print every login-process line of the four
                               logs with its kind, attempts and client
  corpus.py shapes DIR         every distinct line shape of the four logs
                               and how often each log has it, the user
                               names and addresses replaced by placeholders

Every simulated client has its own source address (10.98.1.N, fd00:98:1::N);
10.98.9.N / fd00:98:9::N are "victims": they only appear inside user names
that bots send and never connect.
"""

import base64
import ipaddress
import json
import os
import re
import signal
import socket
import ssl
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

TIMEOUT = 60  # seconds, every socket read; Dovecot's auth penalty reaches 15 s

# quiet: auth_verbose = no; verbose: auth_verbose = yes; anychars: the same
# and auth_username_chars empty (any character in a user name, as sites with
# unusual names set it), so that crafted names reach the passdb and its log
# prefix instead of being refused by the auth process's character check;
# syslog: as verbose, logging through syslog() (run-corpus's rsyslogd writes
# the file).
INSTANCES = ("quiet", "verbose", "anychars", "syslog")
SERVER = {"quiet": {4: "10.98.0.1", 6: "fd00:98::1"},
          "verbose": {4: "10.98.0.2", 6: "fd00:98::2"},
          "anychars": {4: "10.98.0.3", 6: "fd00:98::3"},
          "syslog": {4: "10.98.0.4", 6: "fd00:98::4"}}
PORT = {"imap": 143, "pop3": 110, "managesieve": 4190, "submission": 587}
USERS = {"alice": "alice-pw-1", "bob": "bob-pw-2", "carol": "carol-pw-3",
         "dave": "dave-pw-4", "erin": "erin-pw-5"}


def client(n, v6=False):
    return f"fd00:98:1::{n:x}" if v6 else f"10.98.1.{n}"


def victim(n, v6=False):
    return f"fd00:98:9::{n:x}" if v6 else f"10.98.9.{n}"


# --- the clients: (address, role, what, [steps]) --------------------------------
# A step is (service, kind, account, secret, extra):
#   good       log in with the right password, then log out
#   wrong      N wrong passwords for account, one session each (extra: N)
#   same       N wrong passwords in ONE session (extra: N)
#   plain      a login without TLS where it is disallowed (one session)
#   preauth    connect (and STARTTLS when extra is "tls") and leave before any
#              auth; with extra "sasl": start AUTHENTICATE PLAIN, then leave
# A secret of "drop" makes a failing session end by closing the connection
# instead of the protocol's QUIT/LOGOUT (Dovecot logs "Connection closed").
#   inject     a wrong password for a crafted user name (extra: the planted victim)
# Outcomes in truth.json: success, failure, plaintext, preauth, injection.

def define():
    c = []

    def add(n, role, what, steps, v6=False):
        c.append((client(n, v6), role, what, steps))

    # honest users
    add(10, "honest", "alice logs in over IMAP", [("imap", "good", "alice", None, None)])
    add(11, "honest", "bob logs in over POP3", [("pop3", "good", "bob", None, None)])
    add(12, "honest", "carol logs in over ManageSieve", [("managesieve", "good", "carol", None, None)])
    add(13, "honest", "dave logs in over submission", [("submission", "good", "dave", None, None)])
    add(14, "honest", "erin logs in over IMAP (IPv6)", [("imap", "good", "erin", None, None)], v6=True)
    # the phone with a stale password: it logged in before, now retries the old one
    add(20, "phone", "alice's phone: one good IMAP login, then the stale password x3",
        [("imap", "good", "alice", None, None), ("imap", "wrong", "alice", None, 3)])
    add(21, "phone", "bob's phone: the stale password x2 over POP3 (IPv6)",
        [("pop3", "wrong", "bob", None, 2)], v6=True)
    # bots
    add(30, "bot", "IMAP: wrong passwords for 4 users, one session each",
        [("imap", "wrong", u, None, 1) for u in ("alice", "bob", "carol", "dave")])
    add(31, "bot", "IMAP: 3 unknown users, closing after each failure",
        [("imap", "wrong", u, "drop", 1) for u in ("admin", "test", "info")])
    add(32, "bot", "IMAP: 3 attempts in one session", [("imap", "same", "carol", None, 3)])
    add(33, "bot", "IMAP: LOGIN without TLS (disallowed) x2 sessions",
        [("imap", "plain", "alice", None, None), ("imap", "plain", "bob", None, None)])
    add(34, "bot", "POP3: wrong passwords x3 (bob, admin, erin)",
        [("pop3", "wrong", u, None, 1) for u in ("bob", "admin", "erin")])
    add(35, "bot", "POP3: 2 attempts in one session", [("pop3", "same", "dave", None, 2)])
    add(36, "bot", "POP3: USER/PASS without TLS (disallowed)", [("pop3", "plain", "alice", None, None)])
    add(37, "bot", "ManageSieve: wrong passwords x2 (carol, root)",
        [("managesieve", "wrong", u, None, 1) for u in ("carol", "root")])
    add(38, "bot", "submission: wrong passwords x2 (dave, postmaster), closing after each",
        [("submission", "wrong", u, "drop", 1) for u in ("dave", "postmaster")])
    add(39, "bot", "IMAP: wrong passwords x2 + unknown user (IPv6)",
        [("imap", "wrong", "erin", None, 2), ("imap", "wrong", "nobody", None, 1)], v6=True)
    add(40, "bot", "ManageSieve: 2 attempts in one session", [("managesieve", "same", "alice", None, 2)])
    add(41, "bot", "submission: 2 attempts in one session", [("submission", "same", "bob", None, 2)])
    add(42, "bot", "submission: AUTH without TLS (disallowed)", [("submission", "plain", "carol", None, None)])
    # pre-auth disconnects (mode aggressive)
    add(50, "bot", "IMAP: connects and leaves x2", [("imap", "preauth", None, None, None)] * 2)
    add(51, "bot", "POP3: STARTTLS, then leaves", [("pop3", "preauth", None, None, "tls")])
    add(52, "bot", "IMAP: STARTTLS, then leaves (IPv6)", [("imap", "preauth", None, None, "tls")], v6=True)
    add(53, "bot", "submission: EHLO, then leaves", [("submission", "preauth", None, None, None)])
    add(54, "bot", "ManageSieve: connects and leaves", [("managesieve", "preauth", None, None, None)])
    add(55, "bot", "IMAP: STARTTLS, AUTHENTICATE PLAIN, leaves before the response",
        [("imap", "preauth", None, None, "sasl")])
    add(56, "bot", "POP3: 2 attempts in one session, then closes", [("pop3", "same", "erin", "drop", 2)])
    # injection: user names carrying a victim address
    add(60, "bot", "IMAP LOGIN as 'x,VICTIM' (passwd-file(USER,IP,...) prefix)",
        [("imap", "inject", f"x,{victim(1)}", None, victim(1))])
    add(61, "bot", "IMAP LOGIN as 'u>, method=PLAIN, rip=VICTIM, lip=1.2.3.4'",
        [("imap", "inject", f"u>, method=PLAIN, rip={victim(2)}, lip=1.2.3.4", None, victim(2))])
    add(62, "bot", "IMAP AUTHENTICATE PLAIN as 'u,VICTIM,<sess>): unknown user' + newline rip=",
        [("imap", "inject", f"u,{victim(3)},<abc>): unknown user\nrip={victim(3)}", None, victim(3))])
    add(63, "bot", "POP3 USER 'x, rip=VICTIM, lip=10.98.0.1, TLS, session=<x>'",
        [("pop3", "inject", f"x, rip={victim(4)}, lip=10.98.0.1, TLS, session=<x>", None, victim(4))])
    add(64, "bot", "ManageSieve AUTHENTICATE as 'y,VICTIM6,<x>' (IPv6 victim)",
        [("managesieve", "inject", f"y,{victim(5, True)},<x>", None, victim(5, True))])
    add(65, "bot", "submission AUTH PLAIN as 'VICTIM' and 'rip=VICTIM'",
        [("submission", "inject", victim(6), None, victim(6)),
         ("submission", "inject", f"rip={victim(6)}", None, victim(6))])
    add(66, "bot", "IMAP LOGIN as 'z,VICTIM' twice in one session", [("imap", "inject2", f"z,{victim(7)}", None, victim(7))])
    return c


# --- configuration ----------------------------------------------------------------

CONF_23 = """\
# Dovecot {version} corpus, instance {inst} (written by corpus.py)
base_dir = {work}/{inst}/run
state_dir = {work}/{inst}/state
log_path = {log_path}
protocols = {protocols}
listen = {v4}, {v6}
ssl = yes
ssl_cert = <{work}/tls/cert.pem
ssl_key = <{work}/tls/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_verbose = {verbose}
auth_verbose_passwords = no
auth_debug = no
{username_chars}passdb {{
  driver = passwd-file
  args = scheme=PLAIN {work}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={work}/home/%u
}}
mail_location = maildir:~/Maildir
hostname = mx.lab.example
submission_relay_host = {v4}
submission_relay_port = 25
service imap-login {{
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3s {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submissions {{
    port = 0
  }}
}}
"""

CONF_24 = """\
# Dovecot {version} corpus, instance {inst} (written by corpus.py)
dovecot_config_version = {version}
dovecot_storage_version = {version}
base_dir = {work}/{inst}/run
state_dir = {work}/{inst}/state
log_path = {log_path}
protocols = {protocols}
listen = {v4} {v6}
ssl = yes
ssl_server_cert_file = {work}/tls/cert.pem
ssl_server_key_file = {work}/tls/key.pem
auth_allow_cleartext = no
auth_mechanisms = plain login
auth_verbose = {verbose}
auth_verbose_passwords = no
auth_debug = no
{username_chars}passdb passwd-file {{
  passwd_file_path = {work}/users
}}
userdb static {{
  fields {{
    uid = nobody
    gid = nogroup
    home = {work}/home/%{{user}}
  }}
}}
mail_driver = maildir
mail_path = ~/Maildir
hostname = mx.lab.example
submission_relay_host = {v4}
submission_relay_port = 25
service imap-login {{
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3s {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submissions {{
    port = 0
  }}
}}
"""


def setup(work, version, protocols):
    """users file, configs; prints the client addresses"""
    with open(os.path.join(work, "protocols"), "w") as f:
        f.write(protocols + "\n")
    with open(os.path.join(work, "users"), "w") as f:
        for u, p in USERS.items():
            f.write(f"{u}:{{PLAIN}}{p}::::::\n")
    os.makedirs(os.path.join(work, "home"), exist_ok=True)
    os.chmod(os.path.join(work, "home"), 0o1777)
    conf = CONF_24 if not version.startswith("2.3") else CONF_23
    for inst in INSTANCES:
        os.makedirs(os.path.join(work, inst), exist_ok=True)
        with open(os.path.join(work, inst, "dovecot.conf"), "w") as f:
            f.write(conf.format(version=version, inst=inst, work=work, protocols=protocols,
                                verbose="no" if inst == "quiet" else "yes",
                                username_chars="auth_username_chars =\n" if inst == "anychars" else "",
                                log_path="syslog" if inst == "syslog" else f"{work}/{inst}/dovecot.log",
                                v4=SERVER[inst][4], v6=SERVER[inst][6]))
    for addr, *_ in define():
        print(addr)


# --- the raw clients ----------------------------------------------------------------

class Session:
    """one TCP session from a given source address; line I/O, STARTTLS"""

    def __init__(self, src, dst, port):
        fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.bind((src, 0))
        self.sock.connect((dst, port))
        self.buf = b""
        self.log = []

    def readline(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                raise EOFError("connection closed by the server; read: " + " | ".join(self.log[-4:]))
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        text = line.decode("latin-1").rstrip("\r")
        self.log.append("S: " + text)
        return text

    def send(self, text):
        self.log.append("C: " + text)
        self.sock.sendall(text.encode("latin-1") + b"\r\n")

    def starttls(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        assert not self.buf, "data after the STARTTLS reply"
        self.sock = ctx.wrap_socket(self.sock, server_hostname="mx.lab.example")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def b64_plain(user, secret):
    return base64.b64encode(b"\0" + user.encode() + b"\0" + secret.encode()).decode()


def imap_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Protocol:
    """per service: greeting, STARTTLS, one login attempt (True = accepted), quit"""

    def __init__(self, service, s):
        self.service, self.s, self.n = service, s, 0

    def tagged(self, cmd):
        self.n += 1
        tag = f"a{self.n}"
        self.s.send(f"{tag} {cmd}")
        while True:
            line = self.s.readline()
            if line.startswith(tag + " "):
                return line[len(tag) + 1:]

    def sieve_reply(self):
        while True:
            line = self.s.readline()
            if line.startswith(("OK", "NO", "BYE")):
                return line
            if line.startswith("{"):  # a literal follows: not expected here
                continue

    def smtp_reply(self):
        while True:
            line = self.s.readline()
            if len(line) < 4 or line[3] != "-":
                return line

    def greet(self):
        svc = self.service
        if svc == "imap":
            assert self.s.readline().startswith("* OK")
        elif svc == "pop3":
            assert self.s.readline().startswith("+OK")
        elif svc == "managesieve":
            assert self.sieve_reply().startswith("OK")
        else:
            assert self.smtp_reply().startswith("220")
            assert self.smtp_command("EHLO client.example").startswith("250")

    def smtp_command(self, cmd):
        self.s.send(cmd)
        return self.smtp_reply()

    def starttls(self):
        svc = self.service
        if svc == "imap":
            ok = self.tagged("STARTTLS").startswith("OK")
        elif svc == "pop3":
            self.s.send("STLS")
            ok = self.s.readline().startswith("+OK")
        elif svc == "managesieve":
            self.s.send("STARTTLS")
            ok = self.sieve_reply().startswith("OK")
        else:
            ok = self.smtp_command("STARTTLS").startswith("220")
        assert ok, f"{svc} STARTTLS refused: {self.s.log[-3:]}"
        self.s.starttls()
        if svc == "managesieve":
            assert self.sieve_reply().startswith("OK")  # capabilities again
        elif svc == "submission":
            assert self.smtp_command("EHLO client.example").startswith("250")

    def login(self, user, secret):
        """one attempt; True if accepted"""
        svc = self.service
        if svc == "imap":
            if "\n" in user:
                r = self.tagged("AUTHENTICATE PLAIN " + b64_plain(user, secret))
            else:
                r = self.tagged(f"LOGIN {imap_quote(user)} {imap_quote(secret)}")
            return r.startswith("OK")
        if svc == "pop3":
            self.s.send(f"USER {user}")
            if not self.s.readline().startswith("+OK"):
                return False
            self.s.send(f"PASS {secret}")
            return self.s.readline().startswith("+OK")
        if svc == "managesieve":
            self.s.send(f'AUTHENTICATE "PLAIN" "{b64_plain(user, secret)}"')
            return self.sieve_reply().startswith("OK")
        return self.smtp_command("AUTH PLAIN " + b64_plain(user, secret)).startswith("235")

    def leave(self, drop):
        """end the session: close the connection (drop) or say goodbye"""
        if drop:
            self.s.close()
        else:
            self.quit()

    def quit(self):
        svc = self.service
        try:
            if svc == "imap":
                self.tagged("LOGOUT")
            elif svc == "pop3":
                self.s.send("QUIT")
                self.s.readline()
            elif svc == "managesieve":
                self.s.send("LOGOUT")
                self.sieve_reply()
            else:
                self.smtp_command("QUIT")
        except (EOFError, OSError):
            pass
        self.s.close()


def session(src, inst, service):
    dst = SERVER[inst][6 if ":" in src else 4]
    return Protocol(service, Session(src, dst, PORT[service]))


def run_step(src, inst, step):
    """run one step; returns its truth.json actions"""
    service, kind, account, secret, extra = step
    out = []

    def act(outcome, acct, attempts=1, planted=None):
        a = {"address": src, "log": inst, "service": service, "account": acct,
             "outcome": outcome, "attempts": attempts}
        if planted:
            a["planted"] = planted
        out.append(a)

    if kind == "good":
        p = session(src, inst, service)
        p.greet()
        p.starttls()
        assert p.login(account, USERS[account]), f"{service} good login refused: {p.s.log[-4:]}"
        p.quit()
        act("success", account)
    elif kind in ("wrong", "inject"):
        for _ in range(extra if kind == "wrong" else 1):
            p = session(src, inst, service)
            p.greet()
            p.starttls()
            assert not p.login(account, "wrong-" + account[:8]), f"{service} wrong password accepted"
            p.leave(secret == "drop")
            if kind == "wrong":
                act("failure", account)
            else:
                act("injection", account, planted=extra)
    elif kind in ("same", "inject2"):
        n = extra if kind == "same" else 2
        p = session(src, inst, service)
        p.greet()
        p.starttls()
        for i in range(n):
            assert not p.login(account, f"wrong{i}"), f"{service} wrong password accepted"
        p.leave(secret == "drop")
        if kind == "same":
            act("failure", account, n)
        else:
            act("injection", account, n, planted=extra)
    elif kind == "plain":
        p = session(src, inst, service)
        p.greet()
        p.login(account, "secret")
        p.quit()
        act("plaintext", account)
    elif kind == "preauth":
        p = session(src, inst, service)
        p.greet()
        if extra in ("tls", "sasl"):
            p.starttls()
        if extra == "sasl":
            p.s.send("a9 AUTHENTICATE PLAIN")
            assert p.s.readline().startswith("+")
        p.s.close()  # no QUIT: just gone
        act("preauth", None)
    else:
        raise ValueError(kind)
    return out


def offered(work):
    """the services the instances run (Dovecot's protocol "sieve" is
    ManageSieve; a build without Pigeonhole has none)"""
    with open(os.path.join(work, "protocols")) as f:
        names = f.read().split()
    return {"managesieve" if n == "sieve" else n for n in names}


def drive(work):
    """every client's steps on the services the instances offer; the others
    are left out of truth.json (and so of expect.json)"""
    services = offered(work)
    clients = [(addr, role, what, [st for st in steps if st[0] in services])
               for addr, role, what, steps in define()]
    truth = []
    lock = threading.Lock()
    errors = []

    def run(addr, inst, steps):
        try:
            for st in steps:
                acts = run_step(addr, inst, st)
                with lock:
                    truth.extend(acts)
        except Exception as e:  # noqa: BLE001 -- reported, the run fails
            with lock:
                errors.append(f"{addr} [{inst}]: {type(e).__name__}: {e}")

    with ThreadPoolExecutor(max_workers=len(INSTANCES) * len(clients)) as ex:
        for addr, _, _, steps in clients:
            if steps:
                for inst in INSTANCES:
                    ex.submit(run, addr, inst, steps)
    for e in errors:
        print("corpus drive:", e, file=sys.stderr)
    truth.sort(key=lambda a: (a["log"], ipaddress.ip_address(a["address"]).packed, a["service"]))
    with open(os.path.join(work, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1)
    return 1 if errors else 0


# --- the reference classifier ---------------------------------------------------------

# A login process's line: "SVC-login: MESSAGE: user=<U>, ... rip=IP, lip=IP, ..."
# The user name comes first and is client text, so the real fields are found
# from the end: the last ", rip=IP, lip=IP" of the line (Dovecot writes its
# own fields after the user name).
LOGIN_LINE = re.compile(r"\b(imap|pop3|managesieve|submission)-login: (?:Info: )?(.*)$")
RIP = re.compile(r"rip=([0-9a-fA-F:.]+), lip=[0-9a-fA-F:.]+")
AUTH_FAILED = re.compile(r"\(auth failed, (\d+) attempts")


def login_kind(msg):
    """(kind, attempts) of a login process's session-end or login line, or
    None. A login without TLS where it is disallowed ends as "auth failed, 1
    attempts" (IMAP LOGIN, POP3 USER/PASS) or "tried to use disallowed
    plaintext auth" (AUTHENTICATE, AUTH; 2.4: "cleartext", and ", N attempts
    in S secs"): one failed attempt either way. The
    lines the login process adds with auth_verbose ("Login failed: ...",
    "Authenticate PLAIN failed: ...") repeat an attempt its session-end line
    counts, and are not classified here."""
    m = AUTH_FAILED.search(msg)
    if m and msg.startswith(("Disconnected", "Aborted login", "Login aborted")):
        return "failed", int(m.group(1))
    m = re.search(r"\(tried to use (?:disallowed|disabled) \S+ auth(?:, (\d+) attempts in \d+ secs)?\)", msg)
    if m:
        return "failed", int(m.group(1) or 1)
    if re.match(r"(Disconnected|Aborted login|Login aborted).*\((no auth attempts|client didn't finish SASL auth)", msg):
        return "preauth", 1
    if msg.startswith(("Login: ", "Logged in: ")):
        return "success", 1
    return None


def real_rip(msg):
    ms = list(RIP.finditer(msg))
    return ms[-1].group(1) if ms else None


def classify(lines):
    """[(kind, attempts, service, rip, line)] for the login-process lines"""
    out = []
    for ln in lines:
        m = LOGIN_LINE.search(ln)
        if not m:
            continue
        k = login_kind(m.group(2))
        if k:
            out.append((k[0], k[1], m.group(1), real_rip(m.group(2)), ln))
    return out


OUTCOME_KIND = {"success": "success", "failure": "failed", "injection": "failed",
                "plaintext": "failed", "preauth": "preauth"}


def hits_of(actions):
    """normal: failed attempts + disallowed plaintext sessions; aggressive adds
    pre-auth sessions"""
    normal = sum(a["attempts"] for a in actions if a["outcome"] in ("failure", "injection"))
    normal += sum(1 for a in actions if a["outcome"] == "plaintext")
    aggressive = normal + sum(1 for a in actions if a["outcome"] == "preauth")
    return {"normal": normal, "aggressive": aggressive}


def expect(work, out):
    with open(os.path.join(work, "truth.json")) as f:
        truth = json.load(f)
    bad = []
    for inst in INSTANCES:
        with open(os.path.join(out, f"{inst}.log"), encoding="latin-1") as f:
            got = classify(f.read().splitlines())
        want = {}
        for a in truth:
            if a["log"] == inst:
                key = (a["address"], a["service"], OUTCOME_KIND[a["outcome"]])
                want[key] = want.get(key, 0) + a["attempts"]
        seen = {}
        for kind, n, svc, rip, ln in got:
            key = (rip, svc, kind)
            seen[key] = seen.get(key, 0) + n
        for key in sorted(set(want) | set(seen), key=str):
            if want.get(key, 0) != seen.get(key, 0):
                bad.append(f"{inst}: {key}: clients did {want.get(key, 0)}, log says {seen.get(key, 0)}")
    expectation = {}
    roles = {addr: (role, what) for addr, role, what, _ in define()}
    for addr, (role, what) in roles.items():
        acts = [a for a in truth if a["address"] == addr]
        if not acts:
            continue  # a client of a service this Dovecot does not offer
        per_log = {inst: hits_of([a for a in acts if a["log"] == inst]) for inst in INSTANCES}
        expectation[addr] = {"role": role, "hits": hits_of([a for a in acts if a["log"] == "quiet"]),
                             "per_log": per_log, "what": what}
    for a in truth:
        if "planted" in a:
            expectation.setdefault(a["planted"], {"role": "victim", "hits": {"normal": 0, "aggressive": 0},
                                                  "per_log": {}, "what": "planted in a user name"})
    for inst, addrs in SERVER.items():
        for a in addrs.values():
            expectation[a] = {"role": "server", "hits": {"normal": 0, "aggressive": 0}, "per_log": {},
                              "what": f"instance {inst} (lip=)"}
    expectation["dovecot"] = os.environ.get("CORPUS_DOVECOT_VERSION", "?")
    with open(os.path.join(out, "expect.json"), "w") as f:
        json.dump(expectation, f, indent=1)
        f.write("\n")
    with open(os.path.join(out, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1)
        f.write("\n")
    for b in bad:
        print("corpus expect:", b, file=sys.stderr)
    return 1 if bad else 0


def classify_dir(d):
    for inst in INSTANCES:
        with open(os.path.join(d, f"{inst}.log"), encoding="latin-1") as f:
            for kind, n, svc, rip, ln in classify(f.read().splitlines()):
                print(f"{inst:7} {kind:9} {n} {svc:11} {rip:18} {ln}")
    return 0


# --- line shapes --------------------------------------------------------------------

def shapes(d):
    """plain user names become USER, client addresses IP, the servers' SERVER,
    planted ones VICTIM, session ids SESSION, numbers N; crafted user names
    stay as they are (with VICTIM in them). Shown as the message syslog
    gets: the file form has "Info: " after the prefix (other levels keep
    their word in both forms)."""
    servers = {a for s in SERVER.values() for a in s.values()}
    addr_re = re.compile(r"(?<![0-9a-fA-F:.])(10\.98\.\d+\.\d+(?![\d.])|fd00:98:[0-9a-f:]+(?![0-9a-fA-F:]))")

    def addr(m):
        a = m.group(1)
        return "SERVER" if a in servers else "VICTIM" if a.startswith(("10.98.9.", "fd00:98:9:")) else "IP"

    plain_user = re.compile(r"\b(%s)\b" % "|".join(list(USERS) + ["admin", "test", "info", "nobody",
                                                                "postmaster", "root"]))
    seen = {}  # shape -> {instance: count}
    for inst in INSTANCES:
        with open(os.path.join(d, f"{inst}.log"), encoding="latin-1") as f:
            for ln in f:
                s = ln.rstrip("\n")
                s = re.sub(r"^\w{3} [ \d]\d \d\d:\d\d:\d\d ", "", s)
                # one shape for both forms: the syslog form's message ("mx
                # dovecot: " dropped), which is the file form's without the
                # level word Info after the prefix
                if s.startswith("mx dovecot: "):
                    s = s[len("mx dovecot: "):]
                else:
                    s = s.replace(": Info: ", ": ", 1)
                s = re.sub(r"<[A-Za-z0-9+/]{12,}>", "<SESSION>", s)
                s = addr_re.sub(addr, s)
                s = plain_user.sub("USER", s)
                s = re.sub(r"(?<![A-Za-z])\d+(?![A-Za-z])", "N", s)
                per = seen.setdefault(s, {})
                per[inst] = per.get(inst, 0) + 1
    print("  " + "  ".join(f"{i[:5]:>5}" for i in INSTANCES) + "  shape")
    for s, per in sorted(seen.items()):
        print("  " + "  ".join(f"{per.get(i, 0) or '-':>5}" for i in INSTANCES) + "  " + s)
    return 0


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    a = sys.argv[1:]
    if a[:1] == ["setup"] and len(a) == 4:
        setup(a[1], a[2], a[3])
        return 0
    if a[:1] == ["drive"] and len(a) == 2:
        return drive(a[1])
    if a[:1] == ["expect"] and len(a) == 3:
        return expect(a[1], a[2])
    if a[:1] == ["classify"] and len(a) == 2:
        return classify_dir(a[1])
    if a[:1] == ["shapes"] and len(a) == 2:
        return shapes(a[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
