#!/usr/bin/env python3
"""e2e.py -- the driver, the clients and the observers of exim-e2e-test.

Called by exim-e2e-test:
  e2e.py files WORK           write the passwd and the two allow files the
                              Exim config reads; print the bot's addresses
                              (one "ADDR/PREFIXLEN" a line) for its veth
  e2e.py run ARGS...          (in the server namespace) the test: starts the
                              mainlog follower, the netlink monitor and
                              exim-band, drives the bot and the user, asserts
and by the driver itself, as child processes:
  e2e.py follow MAINLOG       (SCHED_FIFO if allowed) print "MONO_NS LINE"
                              for every line Exim appends, MONO_NS being
                              CLOCK_MONOTONIC when inotify reported the write
  e2e.py client KIND SRC DST  (in the bot namespace) one raw SMTP session of
                              the bot (kinds: see RAW_KINDS); prints JSON
  e2e.py probe SRC,DST,PORT...
                              (in a client namespace) one TCP connect per
                              argument, all at once, each bounded by
                              PROBE_TIMEOUT; prints JSON: per argument
                              "timeout", "refused", "connected 220", ...

Every wait is bounded, and is for an event (a mainlog line, a netlink
announcement, a process exit) or a polled condition (the store's hit count,
the kernel's elements); there are no fixed sleeps.
"""

import ctypes
import ipaddress
import json
import os
import re
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "exim-corpus"))
sys.dont_write_bytecode = True   # no __pycache__ in the corpus test's directory
import corpus  # noqa: E402  -- the corpus test's raw SMTP client and reference classifier
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from failure import Failure  # noqa: E402
from nft_monitor import Monitor, MonitorEnded, rt_allowed  # noqa: E402
from say import sayer  # noqa: E402
from test_run import run_test, stop_process  # noqa: E402

MAXRETRY = 3
BANTIME = 3600
PROBE_TIMEOUT = 2.0        # a connect to a banned port must time out within this, not be refused
SWAKS_TIMEOUT = 5          # every swaks read; a session cut by its own ban ends after this
BAN_TIMEOUT = 10.0         # line that reaches maxretry -> element in the kernel
USER_INTERVAL = 2.0        # the user's background submissions
PORTS = (25, 465, 587)

# --- topology (exim-e2e-test builds it; these are its addresses) -------------
SRV_BOT = {4: "10.98.1.1", 6: "fd00:98:1::1"}     # the server on the bot's link
SRV_USER = {4: "10.98.2.1", 6: "fd00:98:2::1"}    # the server on the user's link
BOT_HOME = {4: "10.98.1.2", 6: "fd00:98:1::2"}    # the bot's own, never-attacking addresses
USER = {4: "10.98.2.2", 6: "fd00:98:2::2"}
USER_NAME, USER_PASSWORD = "alice", "alice-e2e-Secret-7"
GUESS_USERS = ("alice", "admin", "info", "test", "postmaster")

# Hits each attempt writes to the mainlog (mode normal of the shipped filter):
HITS = {
    "guess587": 1,    # swaks, STARTTLS, AUTH LOGIN, wrong password: 535
    "guess465": 1,    # swaks, TLS on connect, AUTH PLAIN, wrong password: 535
    "noadv25": 1,     # raw: AUTH LOGIN on 25, where it is never advertised: 503
    "noadv587": 1,    # raw: AUTH PLAIN on 587 before STARTTLS (not advertised): 503
    "blast25": 3,     # raw: three AUTH LOGIN on 25 in one session, no QUIT
    "nixconn587": 2,  # raw: connect to 587 from a host not in the allow file:
    "nixconn465": 2,  #   "AUTH nixed IP PORT connect" + "Submission not permitted"
    "aclauth587": 2,  # swaks: AUTH from a host that may submit but not AUTH:
    "aclauth465": 2,  #   "AUTH nixed: IP ..." + "rejected AUTH ...: AUTH not accepted"
}
RAW_KINDS = ("noadv25", "noadv587", "blast25", "nixconn587", "nixconn465")


class Ident:
    """One attacker identity: an IPv4 address, or an IPv6 /64 the bot holds
    two addresses of (a and b). attempts: (kind, index into addrs)."""

    def __init__(self, name, addrs, allow, attempts, series=False):
        self.name = name
        self.addrs = addrs
        self.family = 6 if ":" in addrs[0] else 4
        self.allow = allow    # "both": may submit and AUTH; "submit": may submit only; "none"
        self.attempts = attempts
        self.series = series
        self.key = key_of(addrs[0])
        for a in addrs:
            assert key_of(a) == self.key, (a, self.key)
        assert sum(HITS[k] for k, _ in attempts) >= MAXRETRY, name


def key_of(address):
    """The daemon's key as the monitor prints it: the IPv4 address, or the
    IPv6 /64's network address."""
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        return str(ipaddress.IPv6Network((ip, 64), strict=False).network_address)
    return str(ip)


def plan():
    main = [
        Ident("v4 guesser, ban on 25", ["10.98.1.11"], "both",
              [("guess587", 0), ("guess465", 0), ("noadv25", 0)]),
        Ident("v4 guesser, ban on 465", ["10.98.1.12"], "both",
              [("noadv25", 0), ("guess587", 0), ("guess465", 0)]),
        Ident("v4 guesser, ban on 587", ["10.98.1.13"], "both",
              [("guess465", 0), ("noadv587", 0), ("guess587", 0)]),
        Ident("v4 not allowed to submit (connect ACL)", ["10.98.1.14"], "none",
              [("nixconn587", 0), ("nixconn465", 0)]),
        Ident("v4 may submit, not AUTH (AUTH ACL)", ["10.98.1.15"], "submit",
              [("aclauth587", 0), ("aclauth465", 0)]),
        Ident("v6 guesser", ["fd00:98:1:1::a", "fd00:98:1:1::b"], "both",
              [("guess587", 0), ("guess465", 0), ("noadv25", 0)]),
        Ident("v6 guesser from two addresses of one /64", ["fd00:98:1:2::a", "fd00:98:1:2::b"], "both",
              [("guess465", 0), ("noadv25", 1), ("guess587", 0)]),
        Ident("v6 not allowed to submit (connect ACL)", ["fd00:98:1:3::a", "fd00:98:1:3::b"], "none",
              [("nixconn465", 1), ("nixconn587", 0)]),
        Ident("v6 guesser, AUTH before STARTTLS", ["fd00:98:1:4::a", "fd00:98:1:4::b"], "both",
              [("noadv587", 1), ("guess587", 1), ("noadv25", 0)]),
    ]
    restart = Ident("v4 guesser across a daemon restart", ["10.98.1.16"], "both",
                    [("guess587", 0), ("noadv25", 0), ("guess465", 0)])
    shapes = [
        [("blast25", 0)],
        [("guess587", 0), ("guess465", 0), ("noadv25", 0)],
        [("noadv25", 0), ("noadv587", 0), ("guess465", 0)],
        [("guess465", 0), ("guess587", 0), ("noadv587", 0)],
    ]
    series = []
    for i in range(20):
        series.append(Ident("series v4 #%d" % i, ["10.98.1.%d" % (100 + i)], "both", shapes[i % 4], series=True))
    for i in range(8):
        series.append(Ident("series v6 #%d" % i, ["fd00:98:1:%x::a" % (0x10 + i), "fd00:98:1:%x::b" % (0x10 + i)],
                            "both", [(k, n % 2) for n, (k, _) in enumerate(shapes[(i + 1) % 4])], series=True))
    return main, restart, series


def all_idents():
    main, restart, series = plan()
    return main + [restart] + series


# =============================================================================
# e2e.py files WORK
# =============================================================================

def main_files(work):
    with open(os.path.join(work, "passwd"), "w") as f:
        f.write("%s: %s\n" % (USER_NAME, USER_PASSWORD))
        f.write("bob: bob-e2e-Secret-8\n")
    submit, auth = [USER[4], USER[6]], [USER[4], USER[6]]
    for ident in all_idents():
        if ident.allow in ("both", "submit"):
            submit += ident.addrs
        if ident.allow == "both":
            auth += ident.addrs
    for name, hosts in (("submission-hosts", submit), ("auth-hosts", auth)):
        with open(os.path.join(work, name), "w") as f:
            f.write("# written by test/system/exim-e2e/e2e.py\n")
            f.write("".join(h + "\n" for h in hosts))
    print("%s/24" % BOT_HOME[4])
    print("%s/64" % BOT_HOME[6])
    for ident in all_idents():
        for a in ident.addrs:
            print("%s/%d" % (a, 64 if ident.family == 6 else 24))


# =============================================================================
# e2e.py follow MAINLOG
# =============================================================================

IN_MODIFY = 0x2


def main_follow(path):
    """Prints "MONO_NS LINE" for each complete line appended to `path`,
    MONO_NS being when inotify reported the write (an upper bound of when
    Exim wrote it: the follower runs SCHED_FIFO when it may, so that it is
    not delayed behind busy CPUs)."""
    rt = 0
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
        rt = 1
    except (OSError, AttributeError):
        pass
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    ifd = libc.inotify_init1(os.O_CLOEXEC)
    if ifd < 0 or libc.inotify_add_watch(ifd, os.fsencode(path), IN_MODIFY) < 0:
        print("error inotify: %s" % os.strerror(ctypes.get_errno()), flush=True)
        return 1
    out = sys.stdout.buffer
    out.write(b"ready rt=%d\n" % rt)
    out.flush()
    fd = os.open(path, os.O_RDONLY)
    pending = b""
    t = time.monotonic_ns()
    while True:
        while True:                       # read to the end
            data = os.read(fd, 1 << 16)
            if not data:
                break
            pending += data
            *lines, pending = pending.split(b"\n")
            if lines:
                out.write(b"".join(b"%d %s\n" % (t, ln) for ln in lines))
        out.flush()
        os.read(ifd, 4096)                # blocks until the next write
        t = time.monotonic_ns()


# =============================================================================
# e2e.py client KIND SRC DST      (bot namespace)
# =============================================================================

class RawClient:
    def __init__(self, addr):
        self.addr = addr
        self.log = []


def main_client(kind, src, dst):
    """One raw bot session; prints {"ok": bool, "codes": [...], "detail": ...}.
    The session's hit is written before the bot's last read; the bot then
    closes without waiting (its ban may already drop its packets)."""
    corpus.SERVER["E"] = {4: dst, 6: dst}
    corpus.TIMEOUT = SWAKS_TIMEOUT
    c = RawClient(src)
    codes = []
    result = {"ok": False, "codes": codes, "kind": kind, "src": src}
    try:
        if kind in ("nixconn587", "nixconn465"):
            # connect ACL: a defer instead of the greeting (on 465 the TLS
            # handshake comes first)
            port = 587 if kind == "nixconn587" else 465
            s = corpus.Session(c, "E", port, tls_on_connect=(port == 465))
            codes.append(s.banner[0])
            result["ok"] = s.banner[0] == 451
            result["detail"] = s.banner[1]
            s.sock.close()
        else:
            port = 25 if kind in ("noadv25", "blast25") else 587
            s = corpus.Session(c, "E", port)
            codes.append(s.banner[0])
            s.cmd("EHLO ylmf-pc", 250)
            ehlo = c.log[-1]
            if kind == "blast25":
                cmds = ["AUTH LOGIN"] * 3
            elif kind == "noadv25":
                cmds = ["AUTH LOGIN"]
            else:
                cmds = ["AUTH PLAIN " + corpus.b64("\0admin\0admin123")]
            for n, line in enumerate(cmds):
                r = s.cmd(line)
                codes.append(r[0])
                if r[0] != 503:
                    result["detail"] = "%r -> %r (%s)" % (line, r, ehlo)
                    break
            else:
                result["ok"] = True
            s.sock.close()
    except (OSError, ssl.SSLError, corpus.SmtpError) as e:
        result["detail"] = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(result))
    return 0


# =============================================================================
# e2e.py probe SRC,DST,PORT...    (any client namespace)
# =============================================================================

def probe_one(src, dst, port):
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.bind((src, 0))
        s.settimeout(PROBE_TIMEOUT)
        t0 = time.monotonic()
        try:
            s.connect((dst, port))
        except socket.timeout:
            return "timeout after %.1f s" % (time.monotonic() - t0)
        except ConnectionRefusedError:
            return "refused"
        except OSError as e:
            return "error %s" % e
        # connected: a well-behaved client, greeting then QUIT
        s.settimeout(5)
        if port == 465:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s, server_hostname="mx.e2e.example")
        banner = s.recv(4096)
        s.sendall(b"QUIT\r\n")
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
        return "connected %s" % banner[:3].decode("latin-1")
    except OSError as e:
        return "error %s" % e
    finally:
        s.close()


def main_probe(specs):
    jobs = []
    for spec in specs:
        src, dst, port = spec.split(",")[:3]
        jobs.append((spec, src, dst, int(port)))
    with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as ex:
        results = list(ex.map(lambda j: (j[0], probe_one(j[1], j[2], j[3])), jobs))
    print(json.dumps(dict(results)))
    return 0


# =============================================================================
# e2e.py run      (server namespace)
# =============================================================================

T0 = time.monotonic()


say = sayer("exim-e2e")


def step(msg):
    say("[%5.1f s] %s" % (time.monotonic() - T0, msg))


def percentile(values, p):
    """Nearest-rank percentile."""
    v = sorted(values)
    if not v:
        return float("nan")
    rank = max(1, -(-len(v) * p // 100))
    return v[int(rank) - 1]


def swaks_auth_code(transcript):
    return corpus.swaks_auth_reply(transcript)


class Mainlog:
    """The follower's lines, classified with corpus.py's reference shapes
    (mode normal). Per key: hit count, and when its MAXRETRY-th hit line
    appeared."""

    def __init__(self, path, known_addresses):
        self.path = path
        self.known = {corpus.canon(a) for a in known_addresses}
        self.cond = threading.Condition()
        self.lines = 0
        self.times = []            # mono ns of every line, in order
        self.hits_total = 0
        self.hits_by_addr = {}
        self.hits_by_key = {}
        self.reached = {}          # key -> (mono ns, line) of the MAXRETRY-th hit
        self.error = None
        argv = [sys.executable, os.path.abspath(__file__), "follow", path]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = self.process.stdout.readline().decode(errors="replace").strip()
        if not first.startswith("ready"):
            raise Failure("mainlog follower did not start: %r %s" % (first, self.process.stderr.read()[-2000:]))
        self.realtime = first.endswith("rt=1")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.process.stdout:
            t, _, line = raw.rstrip(b"\n").partition(b" ")
            self._line(int(t), line.decode("latin-1"))
        with self.cond:
            self.error = self.error or "the mainlog follower ended"
            self.cond.notify_all()

    def _line(self, t, line):
        addrs = corpus.addresses_in(line) & self.known
        kind = None
        if len(addrs) == 1:
            a = next(iter(addrs))
            for k, rx in corpus.shapes(a):
                if rx.search(line):
                    kind = k
                    break
        with self.cond:
            self.lines += 1
            self.times.append(t)
            if kind in corpus.NORMAL:
                key = key_of(a)
                self.hits_total += 1
                self.hits_by_addr[a] = self.hits_by_addr.get(a, 0) + 1
                n = self.hits_by_key.get(key, 0) + 1
                self.hits_by_key[key] = n
                if n == MAXRETRY:
                    self.reached[key] = (t, line, len(self.times) - 1)
            self.cond.notify_all()

    def wait(self, what, predicate, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                if self.error:
                    raise Failure(self.error)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure("timed out after %.0f s waiting for the mainlog to show %s" % (timeout, what))
                self.cond.wait(left)

    def key_hits(self, key):
        with self.cond:
            return self.hits_by_key.get(key, 0)

    def stop(self):
        stop_process(self.process)


class Daemon:
    """exim-band with the real nftables backend, in this (the server's)
    network namespace, following Exim's mainlog."""

    def __init__(self, band, work, mainlog):
        self.band = band
        self.dir = os.path.join(work, "band")
        os.makedirs(self.dir, exist_ok=True)
        self.config = os.path.join(self.dir, "exim-ban.conf")
        self.database = os.path.join(self.dir, "state.db")
        self.log_path = os.path.join(self.dir, "exim-band.log")
        os.symlink(os.path.join(SOURCE, "filters"), os.path.join(self.dir, "filters.d"))
        with open(self.config, "w") as f:
            f.write("# written by test/system/exim-e2e/e2e.py\n"
                    "[DEFAULT]\n"
                    "ignoreip = 127.0.0.0/8 ::1\n"
                    "ignoreself = true\n"
                    "bantime = %ds\n"
                    "findtime = 10m\n"
                    "database = %s\n"
                    "socket = %s\n"
                    "\n[exim]\nenabled = true\nlogpath = %s\nfilter = exim\nmaxretry = %d\n"
                    % (BANTIME, self.database, os.path.join(self.dir, "control.sock"), mainlog, MAXRETRY))
        self.process = None
        self.starts = 0
        self.db = None

    def start(self):
        assert self.process is None
        self.out = open(self.log_path, "ab")
        self.process = subprocess.Popen([self.band, "--foreground", "--config", self.config],
                                        stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.out)
        self.starts += 1
        deadline = time.monotonic() + 30
        while self.log().count(" started: ") < self.starts:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.out.close()
                self.process = None
                raise Failure("exim-band exited with %d at start" % code)
            if time.monotonic() > deadline:
                raise Failure("exim-band did not log \"started:\" within 30 s")
            time.sleep(0.01)

    def alive(self):
        if self.process is None or self.process.poll() is not None:
            raise Failure("exim-band is not running (exit code %s)" % (self.process and self.process.returncode))

    def stop(self):
        """SIGTERM; must exit 0 within 20 s."""
        self.close_db()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise Failure("exim-band did not exit within 20 s of SIGTERM")
        finally:
            self.out.close()
            self.process = None
        if code != 0:
            raise Failure("exim-band exited with %d on SIGTERM" % code)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def close_db(self):
        if self.db is not None:
            self.db.close()
            self.db = None

    def query(self, sql):
        if self.db is None:
            self.db = sqlite3.connect("file:%s?mode=ro" % self.database, uri=True, timeout=10)
        try:
            return self.db.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return None

    def stored_hits(self):
        rows = self.query("SELECT coalesce(sum(count), 0) FROM hit_batches")
        return rows[0][0] if rows else 0

    def stored_bans(self):
        rows = self.query("SELECT count(*) FROM bans")
        return rows[0][0] if rows else 0


class Test:
    def __init__(self, args):
        self.args = args
        self.work = args["work"]
        self.banctl = args["banctl"]
        self.mainlog_path = os.path.join(self.work, "log", "mainlog")
        self.main, self.restart_ident, self.series = plan()
        self.idents = self.main + [self.restart_ident] + self.series
        self.bans = []                 # (ident, latency ms)
        self.ban_records = []          # the same, in detail, for bans.json
        self.dropped = 0               # bot connections that timed out (dropped by a ban)
        self.user_ok = 0
        self.user_failures = []
        self.user_lock = threading.Lock()
        self.user_n = 0
        self.stop_user = threading.Event()
        self.notes = []
        self.unbanned = set()          # keys lifted by exim-banctl unban (step 5)
        self.bans_before_restart = 0
        self.hits_before_restart = 0
        self.pending = []              # final bot attempts still running

    # --- helpers -----------------------------------------------------------------
    def in_ns(self, ns, argv):
        return ["ip", "netns", "exec", ns] + argv

    def nft_list(self):
        p = subprocess.run([self.banctl, "nft-list", "--json"], capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise Failure("exim-banctl nft-list --json exited %d: %s" % (p.returncode, p.stderr.strip()))
        j = json.loads(p.stdout)
        out = {}
        for e in j.get("elements", []):
            addr = e["element"].split("/")[0]
            out[key_of(addr)] = e
        return out

    def probe(self, ns, specs):
        p = subprocess.run(self.in_ns(ns, [sys.executable, os.path.abspath(__file__), "probe"] + specs),
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise Failure("probe failed: %s" % p.stderr[-2000:])
        return json.loads(p.stdout)

    def swaks_args(self, src, dst, port, user, password, mech, extra=()):
        args = ["swaks", "--server", dst, "--port", str(port), "--local-interface", src,
                "--timeout", str(SWAKS_TIMEOUT), "--auth", mech, "--auth-user", user,
                "--auth-password", password]
        if ":" in dst:
            args.append("-6")
        args += ["--tls-on-connect"] if port == 465 else ["--tls"]
        return args + list(extra)

    # --- the user ----------------------------------------------------------------------
    def user_submit(self, why):
        with self.user_lock:
            self.user_n += 1
            n = self.user_n
        fam = 4 if n % 2 else 6
        port = 465 if n % 4 in (2, 3) else 587
        args = self.swaks_args(USER[fam], SRV_USER[fam], port, USER_NAME, USER_PASSWORD, "LOGIN",
                               ["--helo", "alice-laptop.e2e.example", "--from", "alice@e2e.example",
                                "--to", "bob@e2e.example", "--header", "Subject: exim-e2e user message %d" % n,
                                "--body", "message %d (%s)" % (n, why)])
        args[args.index("--timeout") + 1] = "15"
        try:
            p = subprocess.run(self.in_ns(self.args["ns_user"], args), capture_output=True, text=True, timeout=60)
            out = p.stdout + p.stderr
        except subprocess.TimeoutExpired as e:
            out = "swaks did not finish within 60 s: %s" % e
        m = re.search(r"^<[~-] +250 OK id=(\S+)", out, re.M)
        with self.user_lock:
            if m and swaks_auth_code(out) == 235:
                self.user_ok += 1
                return m.group(1)
            self.user_failures.append("user message %d (IPv%d, port %d, %s) not accepted:\n%s"
                                      % (n, fam, port, why, out[-3000:]))
        raise Failure(self.user_failures[-1])

    def user_loop(self):
        while not self.stop_user.wait(USER_INTERVAL):
            try:
                self.user_submit("background")
            except Failure:
                pass    # recorded; the next step fails on it

    def check_user(self):
        with self.user_lock:
            if self.user_failures:
                raise Failure(self.user_failures[0])

    # --- the bot -------------------------------------------------------------------------
    def attempt(self, kind, src, wait=True):
        """Starts one attempt of the bot; returns a function that waits for
        it and returns (ok, detail)."""
        fam = 6 if ":" in src else 4
        dst = SRV_BOT[fam]
        if kind in RAW_KINDS:
            argv = [sys.executable, os.path.abspath(__file__), "client", kind, src, dst]
        else:
            port = 465 if kind.endswith("465") else 587
            mech = "PLAIN" if port == 465 else "LOGIN"
            self.guess_n = getattr(self, "guess_n", 0) + 1
            user = GUESS_USERS[self.guess_n % len(GUESS_USERS)]
            argv = self.swaks_args(src, dst, port, user, "guess%d" % self.guess_n, mech,
                                   ["--helo", "ylmf-pc", "--from", "probe@bot.example",
                                    "--to", "alice@e2e.example", "--quit-after", "AUTH"])
        proc = subprocess.Popen(self.in_ns(self.args["ns_bot"], argv), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

        def finish():
            try:
                out, _ = proc.communicate(timeout=3 * SWAKS_TIMEOUT + 10)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate(timeout=10)
                return False, "did not finish in time:\n" + out[-2000:]
            if kind in RAW_KINDS:
                try:
                    r = json.loads(out.strip().splitlines()[-1])
                except (ValueError, IndexError):
                    return False, out[-2000:]
                return r["ok"], json.dumps(r)
            code = swaks_auth_code(out)
            want = 535 if kind.startswith("guess") else 503
            return code == want, "AUTH reply %s, wanted %d:\n%s" % (code, want, out[-2500:])

        finish.process = proc
        finish.what = "bot attempt %s from %s" % (kind, src)
        if wait:
            ok, detail = finish()
            if not ok:
                raise Failure("%s went wrong: %s" % (finish.what, detail))
            return None
        return finish

    def collect_attempts(self):
        """The final attempts left running (a session that its own ban cut
        ends at swaks' timeout): each must have seen the reply it wanted."""
        pending, self.pending = self.pending, []
        for finish in pending:
            ok, detail = finish()
            if not ok:
                raise Failure("%s went wrong: %s" % (finish.what, detail))

    def wait_caught_up(self, daemon):
        """The store holds exactly as many hits as the mainlog shows so far
        (none lost, none twice): the daemon has judged every line."""
        want = self.log.hits_total
        deadline = time.monotonic() + 15
        while True:
            daemon.alive()
            got = daemon.stored_hits()
            if got == want and self.log.hits_total == want:
                return
            if time.monotonic() > deadline:
                raise Failure("the store holds %d hits after 15 s, the mainlog shows %d%s"
                              % (got, want, " (counted twice?)" if got > want else " (lost?)"))
            want = self.log.hits_total
            time.sleep(0.02)

    def run_attempts(self, ident, daemon, upto=None):
        """The ident's attempts (from attempt number ident.done on, until
        `upto`); the one that reaches MAXRETRY is the final one: its ban is
        awaited and timed. Returns the latency in ms, or None."""
        done = getattr(ident, "done", 0)
        cum = sum(HITS[k] for k, _ in ident.attempts[:done])
        stop = len(ident.attempts) if upto is None else upto
        for i in range(done, stop):
            kind, ai = ident.attempts[i]
            src = ident.addrs[ai]
            ident.done = i + 1
            if cum + HITS[kind] < MAXRETRY:
                self.attempt(kind, src)
                cum += HITS[kind]
                self.log.wait("%d hit(s) of %s" % (cum, ident.key), lambda: self.log.key_hits(ident.key) >= cum, 15)
                if self.log.key_hits(ident.key) != cum:
                    raise Failure("%s: %d hits in the mainlog, %d expected" % (ident.name, self.log.key_hits(ident.key), cum))
                continue
            # the final attempt: first, the daemon has seen every line and has not banned
            self.wait_caught_up(daemon)
            if ident.key in self.nft_list() or self.monitor.count(ident.key):
                raise Failure("%s: %s banned after %d hit(s), before maxretry (%d)" % (ident.name, ident.key, cum, MAXRETRY))
            finish = self.attempt(kind, src, wait=False)
            # the ban, or the attempt's failure, whichever comes first
            cum += HITS[kind]
            deadline = None
            while True:
                t_ban = self.monitor.wait(ident.key, 0, 0.05)
                if t_ban is not None:
                    break
                if deadline is None and self.log.key_hits(ident.key) >= MAXRETRY:
                    deadline = time.monotonic() + BAN_TIMEOUT
                if finish.process.poll() is not None:
                    ok, detail = finish()
                    if not ok:
                        raise Failure("%s went wrong: %s" % (finish.what, detail))
                    if deadline is None:
                        self.log.wait("%d hit(s) of %s" % (cum, ident.key), lambda: self.log.key_hits(ident.key) >= cum, 15)
                        deadline = time.monotonic() + BAN_TIMEOUT
                if deadline is not None and time.monotonic() > deadline:
                    raise Failure("%s: no element for %s in the kernel %.0f s after the line that reached maxretry:\n  %s"
                                  % (ident.name, ident.key, BAN_TIMEOUT, self.log.reached[ident.key][1]))
            self.pending.append(finish)
            self.log.wait("%d hit(s) of %s" % (cum, ident.key), lambda: self.log.key_hits(ident.key) >= cum, 15)
            t_line, line, index = self.log.reached[ident.key]
            latency = (t_ban - t_line) / 1e6
            if latency < 0:
                raise Failure("%s: %s in the kernel %.3f ms BEFORE the line that reached maxretry:\n  %s"
                              % (ident.name, ident.key, -latency, line))
            elements = self.nft_list()
            e = elements.get(ident.key)
            if e is None or e.get("jail") != "exim" or not (0 < e.get("expires", 0) <= BANTIME):
                raise Failure("%s: exim-banctl nft-list shows %r for %s" % (ident.name, e, ident.key))
            self.bans.append((ident, latency))
            self.ban_records.append({"key": ident.key, "what": ident.name, "line": line, "line_mono_ns": t_line,
                                     "kernel_mono_ns": t_ban, "real_minus_mono_ns": self.monitor.real_minus_mono,
                                     "latency_ms": latency})
            with self.log.cond:
                after = self.log.times[index + 1:]
            burst = sum(1 for x in after if x < t_ban)   # lines Exim wrote in between
            say("  ban %-16s %6.2f ms after its line (Exim wrote %d more meanwhile) %s: %s"
                % (ident.key, latency, burst, ident.name, line[20:100]))
            return latency
        return None

    def blocked_probe(self, idents, why):
        """Every address of each ident: 25, 465 and 587 time out; the bot's
        home address still connects; the user still submits."""
        specs = []
        for ident in idents:
            for a in ident.addrs:
                for port in PORTS:
                    specs.append("%s,%s,%d" % (a, SRV_BOT[ident.family], port))
        fams = sorted({i.family for i in idents})
        home = ["%s,%s,25" % (BOT_HOME[f], SRV_BOT[f]) for f in fams]
        before = self.nft_list()
        res = self.probe(self.args["ns_bot"], specs + home)
        bad = {s: r for s, r in res.items() if s in specs and not r.startswith("timeout")}
        if bad:
            raise Failure("%s: connections from banned addresses were not dropped (want a timeout, not a "
                          "refusal or a session): %s" % (why, json.dumps(bad, indent=1)))
        for h in home:
            if not res[h].startswith("connected 220"):
                raise Failure("%s: the bot's unbanned address %s: %s (want a session)" % (why, h, res[h]))
        self.dropped += len(specs)
        after = self.nft_list()
        for ident in idents:
            n = len(ident.addrs) * len(PORTS)
            b = before.get(ident.key, {}).get("packets", 0)
            a = after.get(ident.key, {}).get("packets", 0)
            if a - b < n:
                raise Failure("%s: the element of %s counted %d packets for %d dropped connections"
                              % (why, ident.key, a - b, n))
        self.user_submit(why)
        self.check_user()
        self.collect_attempts()

    # --- the steps -----------------------------------------------------------------------
    def run(self):
        a = self.args
        self.monitor = Monitor(a["monitor"])
        self.log = Mainlog(self.mainlog_path,
                           [x for i in self.idents for x in i.addrs] + list(BOT_HOME.values()) + list(USER.values()))
        say("observers: mainlog follower (SCHED_FIFO: %s), netlink monitor (SCHED_FIFO: %s)"
            % ("yes" if self.log.realtime else "no", "yes" if self.monitor.realtime else "no"))
        daemon = self.daemon = Daemon(a["band"], self.work, self.mainlog_path)
        daemon.start()
        table = subprocess.run(["nft", "list", "table", "inet", "exim_ban"], capture_output=True, text=True, timeout=30)
        if table.returncode != 0 or "@exim_v4" not in table.stdout or "@exim_v6" not in table.stdout:
            raise Failure("exim-band started but table inet exim_ban is not as expected:\n%s%s" % (table.stdout, table.stderr))
        say("exim-band (nftables backend) started, following %s" % self.mainlog_path)

        # 1. the user submits (and keeps submitting in the background)
        for _ in range(4):
            self.user_submit("step 1")
        threading.Thread(target=self.user_loop, daemon=True).start()
        step("step 1: the user submitted 4 messages (587 STARTTLS and 465, IPv4 and IPv6, AUTH LOGIN): 250 OK")

        # 2. + 3. the bot: a ban per identity, each timed
        for ident in self.main:
            self.run_attempts(ident, daemon)
            self.blocked_probe([ident], ident.name)
        step("step 2: %d bans; each banned address (and the second address of each banned /64) timed out "
            "on 25, 465 and 587; the bot's unbanned address and the user kept connecting" % len(self.main))

        for ident in self.series:
            self.run_attempts(ident, daemon)
            self.check_user()
        self.blocked_probe(self.series, "latency series")
        step("step 3: latency series: %d more bans, all of them drop 25, 465 and 587" % len(self.series))

        # 4. restart
        self.restart_step(daemon)

        # 5. the control socket's commands
        banctl_checks(self)

        self.final_checks(daemon)

    def restart_step(self, daemon):
        r = self.restart_ident
        self.run_attempts(r, daemon, upto=1)          # hit 1 with the daemon running
        self.wait_caught_up(daemon)
        before = self.nft_list()
        announced = {k: self.monitor.count(k) for k in before}
        daemon.stop()
        self.bans_before_restart = len(self.bans)
        self.hits_before_restart = self.log.hits_total
        down = self.nft_list()
        missing = sorted(set(before) - set(down))
        if missing:
            raise Failure("with exim-band stopped the kernel lost %d ban(s), e.g. %s" % (len(missing), missing[:3]))
        self.blocked_probe([self.main[0], self.main[5]], "exim-band stopped")
        self.run_attempts(r, daemon, upto=2)          # hit 2 while the daemon is down
        daemon.start()
        self.wait_caught_up(daemon)                   # the backlog: hit 2 once, hit 1 not again
        after = self.nft_list()
        if r.key in after:
            raise Failure("after the restart %s is banned with %d hits" % (r.key, self.log.key_hits(r.key)))
        missing = sorted(set(before) - set(after))
        if missing:
            raise Failure("after the restart the kernel lacks %d ban(s), e.g. %s" % (len(missing), missing[:3]))
        longer = [k for k in before if after[k]["expires"] > before[k]["expires"] + 1]
        if longer:
            raise Failure("the restart lengthened %d ban(s), e.g. %s: %s -> %s" % (
                len(longer), longer[0], before[longer[0]]["expires"], after[longer[0]]["expires"]))
        readded = [k for k in before if self.monitor.count(k) != announced[k]]
        if readded:
            self.notes.append("the restart re-added %d element(s) that were present" % len(readded))
        self.blocked_probe([self.main[0], self.main[5]], "after the restart")
        self.run_attempts(r, daemon)                  # hit 3 after the restart: banned
        self.blocked_probe([r], r.name)
        step("step 4: restart (SIGTERM, exit 0, start): %d bans stayed in the kernel while it was down and "
            "after (none lengthened%s), the bot still timed out; a key with 1 hit before, 1 while down "
            "and 1 after was banned at its 3rd" % (len(before), ", none re-added" if not readded else ""))

    def final_checks(self, daemon):
        self.collect_attempts()
        self.stop_user.set()
        self.check_user()
        self.wait_caught_up(daemon)
        elements = self.nft_list()
        want = {i.key for i, _ in self.bans} - self.unbanned
        if set(elements) != want:
            raise Failure("the kernel holds %s, the bans made were %s" % (sorted(set(elements) - want), sorted(want - set(elements))))
        for fam in (4, 6):
            if key_of(USER[fam]) in elements or self.monitor.count(key_of(USER[fam])):
                raise Failure("the user's address %s was banned" % USER[fam])
            if self.log.hits_by_addr.get(USER[fam]):
                raise Failure("the mainlog shows %d hit(s) for the user" % self.log.hits_by_addr[USER[fam]])
        stored = daemon.stored_bans()
        if stored != len(self.bans):
            raise Failure("the store holds %s bans, %d were made" % (stored, len(self.bans)))
        # the daemon's filter and the reference classifier agree on every address
        p = subprocess.run([self.banctl, "test", self.mainlog_path, "exim", "--json"], capture_output=True,
                           text=True, timeout=120)
        if p.returncode != 0:
            raise Failure("exim-banctl test exited %d: %s" % (p.returncode, p.stderr[-2000:]))
        hosts = {corpus.canon(h): n for h, n in json.loads(p.stdout)["hosts"].items()}
        if hosts != self.log.hits_by_addr:
            diff = {h: (hosts.get(h), self.log.hits_by_addr.get(h))
                    for h in set(hosts) | set(self.log.hits_by_addr) if hosts.get(h) != self.log.hits_by_addr.get(h)}
            raise Failure("exim-banctl test and the reference classifier disagree (filter, reference): %s" % diff)
        # every accepted message was delivered
        conf = os.path.join(self.work, "exim.conf")
        deadline = time.monotonic() + 30
        box = os.path.join(self.work, "mail", "bob")
        while True:
            try:
                with open(box, errors="replace") as f:
                    delivered = len(re.findall(r"^Subject: exim-e2e user message ", f.read(), re.M))
            except FileNotFoundError:
                delivered = 0
            if delivered == self.user_ok:
                break
            if time.monotonic() > deadline:
                q = subprocess.run(["exim", "-C", conf, "-bp"], capture_output=True, text=True, timeout=30)
                raise Failure("%d of %d accepted user messages delivered after 30 s; queue:\n%s"
                              % (delivered, self.user_ok, q.stdout[-2000:]))
            time.sleep(0.05)
        daemon.stop()
        panic = os.path.join(self.work, "log", "paniclog")
        if os.path.exists(panic) and os.path.getsize(panic):
            with open(panic, errors="replace") as f:
                raise Failure("Exim's paniclog is not empty:\n" + f.read()[-2000:])
        if self.monitor.overruns:
            self.notes.append("the monitor lost announcements %d time(s)" % self.monitor.overruns)

    def summary(self):
        lat = [l for _, l in self.bans]
        v4 = sum(1 for i, _ in self.bans if i.family == 4)
        text = ("bans %d (IPv4 %d, IPv6 /64 %d), bot connections dropped (timed out) %d, "
                "user messages accepted %d/%d, " % (len(self.bans), v4, len(self.bans) - v4, self.dropped,
                                                    self.user_ok, self.user_n))
        if not lat:
            return text + "ban latency: no bans (n=0)"
        return text + ("ban latency p50 %.2f ms p99 %.2f ms max %.2f ms (n=%d)"
                       % (percentile(lat, 50), percentile(lat, 99), max(lat), len(lat)))

    def close(self):
        self.stop_user.set()
        with open(os.path.join(self.work, "bans.json"), "w") as f:
            json.dump(self.ban_records, f, indent=1)
        for thing in (getattr(self, "daemon", None),):
            if thing is not None and thing.process is not None:
                try:
                    thing.stop()
                except Failure as e:
                    say("while stopping: %s" % e)
        for thing in (getattr(self, "log", None), getattr(self, "monitor", None)):
            if thing is not None:
                thing.stop()


# =============================================================================
# Step 5: the commands that talk to the daemon's control socket
# =============================================================================

BANCTL_COMMANDS = ("list", "show", "unban", "stats")


def banctl_checks(t):
    """exim-banctl list/show/stats --prometheus/unban against the running
    daemon, through its control socket. Skipped, and said so, while
    exim-banctl lacks these commands; nothing else in the test depends on
    them."""
    p = subprocess.run([t.banctl, "--help"], capture_output=True, text=True, timeout=30)
    help_text = p.stdout + p.stderr
    for cmd in BANCTL_COMMANDS:
        if not re.search(r"^\s+%s\b" % re.escape(cmd), help_text, re.M):
            say("banctl checks: not yet available (exim-banctl has no '%s')" % cmd)
            return

    def banctl(*argv):
        q = subprocess.run([t.banctl, *argv, "--config", t.daemon.config], capture_output=True, text=True,
                           timeout=30)
        if q.returncode != 0:
            raise Failure("exim-banctl %s exited %d: %s%s" % (" ".join(argv), q.returncode, q.stdout[-1000:],
                                                              q.stderr[-1000:]))
        return q.stdout

    def banctl_json(*argv):
        out = banctl(*argv, "--json")
        try:
            return json.loads(out)
        except ValueError:
            raise Failure("exim-banctl %s --json printed no JSON:\n%s" % (" ".join(argv), out[-2000:]))

    def listed():
        return {key_of(b["key"].split("/")[0]): b for b in banctl_json("list").get("bans", [])}

    # list: exactly the bans made, with the hits the mainlog shows and the
    # packets the kernel dropped
    bans = listed()
    want = {i.key for i, _ in t.bans} - t.unbanned
    if set(bans) != want:
        raise Failure("exim-banctl list shows %s that were not banned and lacks %s"
                      % (sorted(set(bans) - want), sorted(want - set(bans))))
    kernel = t.nft_list()
    for key, b in bans.items():
        if b.get("jail") != "exim" or b.get("hits") != t.log.key_hits(key) or not 0 < b.get("remaining_s", 0) <= BANTIME:
            raise Failure("exim-banctl list: %s, the mainlog shows %d hits" % (json.dumps(b), t.log.key_hits(key)))
        # read before nft-list: a cut session's retransmissions may still be counted in between
        if not 0 <= b.get("packets", -1) <= kernel[key]["packets"] or (key == t.main[0].key and not b["packets"]):
            raise Failure("exim-banctl list: %s, nft-list: %s" % (json.dumps(b), json.dumps(kernel[key])))
    # show: an address of a banned /64 names the /64 and its active ban
    v4, v6 = t.main[0], t.main[5]
    shown = banctl_json("show", v6.addrs[1])
    keys = shown.get("keys") or [{}]
    if keys[0].get("key", "").split("/")[0] != v6.key or not any(b.get("lifted") is None for b in keys[0].get("bans", [])):
        raise Failure("exim-banctl show %s --json: %s" % (v6.addrs[1], json.dumps(shown)[:2000]))
    # stats: the text exposition format, and counts that agree with this run
    # since the restart of step 4
    stats = banctl("stats", "--prometheus")
    samples = {}
    for ln in stats.splitlines():
        if ln and not ln.startswith("#"):
            m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) ([-+0-9.eE]+|[-+]?Inf|NaN)$", ln)
            if not m:
                raise Failure("exim-banctl stats --prometheus: not the text exposition format: %r" % ln)
            samples[m.group(1)] = float(m.group(2))
    buckets = sorted((float(m.group(1)), v) for k, v in samples.items()
                     for m in [re.match(r'^exim_ban_batch_latency_seconds_bucket\{le="([0-9.e+-]+)"\}$', k)] if m)
    if buckets:
        prev, parts = 0, []
        for le, cum in buckets:
            if cum > prev:
                parts.append("<=%g ms: %d" % (le * 1000, cum - prev))
            prev = cum
        n = samples.get("exim_ban_batch_latency_seconds_count", 0)
        t.notes.append("exim-band's own commit-to-kernel time per batch since the restart (n=%d, %s)"
                       % (n, ", ".join(parts) + (", more: %d" % (n - prev) if n > prev else "")))
    expect = {"exim_ban_bans_total": len(t.bans) - t.bans_before_restart,
              "exim_ban_hits_total": t.log.hits_total - t.hits_before_restart}
    for name, value in expect.items():
        if samples.get(name) != value:
            raise Failure("exim-banctl stats --prometheus: %s is %s, this run made %d since the restart"
                          % (name, samples.get(name), value))
    # unban an IPv4 key and an IPv6 /64 (by its other address): the elements
    # leave the kernel, the bot connects again, list no longer shows them
    banctl("unban", v4.addrs[0])
    banctl("unban", v6.addrs[1])
    deadline = time.monotonic() + 10
    while True:
        kernel = t.nft_list()
        if v4.key not in kernel and v6.key not in kernel:
            break
        if time.monotonic() > deadline:
            raise Failure("10 s after exim-banctl unban the kernel still holds %s or %s" % (v4.key, v6.key))
        time.sleep(0.02)
    t.unbanned |= {v4.key, v6.key}
    specs = ["%s,%s,%d" % (a, SRV_BOT[i.family], port) for i in (v4, v6) for a in i.addrs for port in PORTS]
    res = t.probe(t.args["ns_bot"], specs)
    bad = {s: r for s, r in res.items() if not r.startswith("connected 220")}
    if bad:
        raise Failure("after exim-banctl unban the bot still cannot connect: %s" % bad)
    left = set(listed()) & t.unbanned
    if left:
        raise Failure("exim-banctl list still shows %s after unban" % sorted(left))
    shown = banctl_json("show", v4.addrs[0])
    if any(b.get("lifted") is None for k in shown.get("keys", []) for b in k.get("bans", [])):
        raise Failure("exim-banctl show %s: a ban not lifted after unban: %s" % (v4.addrs[0], json.dumps(shown)[:2000]))
    unbans = re.search(r"^exim_ban_unbans_total (\S+)$", banctl("stats", "--prometheus"), re.M)
    if not unbans or float(unbans.group(1)) != 2:
        raise Failure("exim-banctl stats --prometheus: exim_ban_unbans_total %s after 2 unbans"
                      % (unbans and unbans.group(1)))
    t.user_submit("step 5")
    step("step 5: banctl checks: list (%d bans, hits and packets as observed), show, stats --prometheus "
        "(bans and hits since the restart), unban %s and %s (by %s): out of the kernel, the bot connects again"
        % (len(bans), v4.key, v6.key + "/64", v6.addrs[1]))


def main_run(argv):
    args = dict(zip(("work", "band", "banctl", "monitor", "ns_bot", "ns_user"), argv))
    if len(args) != 6:
        print("usage: e2e.py run WORK BAND BANCTL MONITOR NS_BOT NS_USER", file=sys.stderr)
        return 2
    return run_test(Test(args), (Failure, MonitorEnded), say)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "files":
        return main_files(sys.argv[2])
    if len(sys.argv) == 3 and sys.argv[1] == "follow":
        return main_follow(sys.argv[2])
    if len(sys.argv) == 5 and sys.argv[1] == "client":
        return main_client(*sys.argv[2:])
    if len(sys.argv) >= 3 and sys.argv[1] == "probe":
        return main_probe(sys.argv[2:])
    if len(sys.argv) >= 2 and sys.argv[1] == "run":
        return main_run(sys.argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main() or 0)
