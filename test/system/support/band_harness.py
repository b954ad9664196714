"""Runs the real exim-band on real files for the system tests: a config in a
temporary directory, the daemon as a child process, Exim-shaped log lines,
and the store read back with Python's sqlite3 (the daemon's own format,
see daemon/store/hit_record.hpp). Every wait is for a condition, bounded."""

import collections
import contextlib
import datetime
import ipaddress
import json
import os
import signal
import sqlite3
import struct
import subprocess
import time

from failure import Failure

SOURCE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
FILTERS = os.path.join(SOURCE, "filters")


def wait_for(what, condition, timeout=20.0, interval=0.01):
    """Polls `condition` until it is true; raises Failure naming `what` after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def failure_line(address, when=None):
    """A line of the shipped exim filter's mode normal, one hit of `address`."""
    when = when or datetime.datetime.now()
    return ("%s login authenticator failed for (ylmf-pc) [%s]: 535 Incorrect "
            "authentication data (set_id=admin)\n" % (when.strftime("%Y-%m-%d %H:%M:%S"), address))


def benign_line(n, when=None):
    when = when or datetime.datetime.now()
    return "%s 1tXyZa-%06d-AB Completed\n" % (when.strftime("%Y-%m-%d %H:%M:%S"), n)


def distinct_address(n):
    """A different address for each n (10.0.0.0/8 and 2001:db8::/32 by turns
    of 7): every line its own key."""
    if n % 7 == 6:
        return str(ipaddress.IPv6Address("2001:db8::") + (n << 64))
    return str(ipaddress.IPv4Address("10.0.0.0") + n + 1)


class Band:
    """One configuration directory and the daemon run on it."""

    def __init__(self, band, workdir, logpaths, extra="", jail_extra=""):
        self.band = band
        self.dir = workdir
        self.database = os.path.join(workdir, "state.db")
        self.config = os.path.join(workdir, "exim-ban.conf")
        self.stderr_path = os.path.join(workdir, "exim-band.log")
        os.symlink(FILTERS, os.path.join(workdir, "filters.d"))
        with open(self.config, "w") as f:
            f.write("[DEFAULT]\nignoreself = false\ndatabase = %s\nsocket = %s\n%s\n"
                    "[exim]\nenabled = true\nlogpath = %s\nfilter = exim\nmaxretry = 3\n%s"
                    % (self.database, os.path.join(workdir, "control.sock"), extra,
                       " ".join(logpaths), jail_extra))
        self.process = None
        self.starts = 0

    def start(self, *args, env=None, dry_run=True, prefix=()):
        """dry_run=False: the nftables backend, for a test inside a network
        namespace of its own. `prefix`: a command that execs the daemon
        (the arguments follow it), e.g. one that enters a namespace."""
        assert self.process is None
        self.stderr = open(self.stderr_path, "a")
        self.process = subprocess.Popen(
            [*prefix, self.band, "--foreground", *(["--dry-run"] if dry_run else []), "--config", self.config,
             *args],
            stdout=self.stderr, stderr=self.stderr, env=env)
        self.starts += 1
        wait_for("exim-band to start (see %s)" % self.stderr_path,
                 lambda: self.log().count(" started: ") >= self.starts or self.process.poll() is not None)
        if self.process.poll() is not None:
            raise Failure("exim-band exited with %d at start:\n%s" % (self.process.returncode, self.log()[-3000:]))

    def stop(self, sig=signal.SIGTERM):
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=20)
        finally:
            self.stderr.close()
            self.process = None
        if sig == signal.SIGTERM and code != 0:
            raise Failure("exim-band exited with %d on SIGTERM:\n%s" % (code, self.log()[-3000:]))
        return code

    def kill(self):
        self.stop(signal.SIGKILL)

    def reap(self):
        """After the process was killed from elsewhere (a timer): waits for
        it and returns its exit status."""
        try:
            return self.process.wait(timeout=20)
        finally:
            self.stderr.close()
            self.process = None

    def log(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def reader(self):
        """A read-only connection, closed at the end of the with block: an
        open one would hold a snapshot that keeps the daemon's checkpointer
        from copying the WAL (sqlite3's own with block only commits)."""
        return contextlib.closing(sqlite3.connect("file:%s?mode=ro" % self.database, uri=True,
                                                  timeout=10))

    def hits(self, jail=None):
        """Every stored hit (of `jail` if given) as (address text, time),
        from the database."""
        found = []
        with self.reader() as db:
            for (data,) in db.execute("SELECT data FROM hit_batches WHERE ?1 IS NULL OR jail = ?1 ORDER BY id",
                                      (jail,)).fetchall():
                for at in range(0, len(data), 32):
                    when, _pattern, length, family = struct.unpack_from("<qIBB", data, at)
                    raw = data[at + 16:at + 32]
                    if family == 4:
                        address = str(ipaddress.IPv4Address(raw[:4]))
                    else:
                        address = str(ipaddress.IPv6Network((raw, length)))
                    found.append((address, when))
        return found

    def hit_count(self):
        try:
            with self.reader() as db:
                return db.execute("SELECT coalesce(sum(count), 0) FROM hit_batches").fetchone()[0]
        except sqlite3.OperationalError:
            return 0  # not created yet

    def bans(self):
        with self.reader() as db:
            return sorted(db.execute("SELECT jail, key, start, expires - start FROM bans"))


def key_of(address):
    """The daemon's key: IPv6 as its /64."""
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return address


def compare_hits(written, stored):
    """`written`: addresses, one per hit line. Returns the problems: keys
    lost or counted twice."""
    want = collections.Counter(key_of(a) for a in written)
    got = collections.Counter(a for a, _ in stored)
    lost = want - got
    extra = got - want
    problems = []
    if lost:
        problems.append("%d hit(s) lost, e.g. %s" % (sum(lost.values()), list(lost)[:3]))
    if extra:
        problems.append("%d hit(s) counted twice or invented, e.g. %s" % (sum(extra.values()), list(extra)[:3]))
    return problems


def moving_attacker(rng, step):
    """Attackers come and go: each chunk draws from a window that moves, so
    bans keep happening all through a long run."""
    n = rng.randrange(step * 8, step * 8 + 60)
    if n % 5 == 4:
        return "2001:db8:%x::%x" % (n, rng.randrange(1, 9))  # several hosts of one /64
    return "198.18.%d.%d" % (n // 250, n % 250 + 1)


class GroundTruthLog:
    """A mainlog in `directory` (made if need be) written chunk by chunk
    (attackers and benign lines, rotated as exicyclog does), and every line
    also to a history file in the same order, for the offline scan to read
    what the daemon read. `path` is the jail's logpath, `jail_settings` what
    else its jail needs (none for a file). `attacker(rng, step)` draws each
    failure's address."""

    jail_settings = ""
    attacker = staticmethod(moving_attacker)

    def __init__(self, directory, attacker=None):
        if attacker:
            self.attacker = attacker
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, "mainlog")
        self.handle = open(self.path, "a", buffering=1)
        self.history = os.path.join(directory, "..", "ground-truth.log")
        self.truth = open(self.history, "w")
        self.written = []
        self.lines = 0
        self.rotations = 0

    def write(self, rng, step, count):
        for _ in range(count):
            self.lines += 1
            if rng.random() < 0.3:
                line = benign_line(self.lines)
            else:
                address = self.attacker(rng, step)
                self.written.append(address)
                line = failure_line(address)
            self.append(line)
        self.flush()

    def append(self, line):
        """One line (with its newline) to the log and to the history."""
        self.handle.write(line)
        self.truth.write(line)

    def flush(self):
        self.handle.flush()
        self.truth.flush()

    def history_file(self):
        """The file of every line written so far, in the order the daemon
        reads them: what the offline scan reads."""
        return self.history

    def rotate_when_read(self, band):
        """rotate() once `band` has stored every hit written so far:
        rotations come far apart on a real host, so the daemon sees the file
        it reads now before the next one goes."""
        wait_for("the daemon to catch up before a rotation", lambda: band.hit_count() >= len(self.written))
        self.rotate()

    def rotate(self):
        """mainlog.01 -> mainlog.02, mainlog -> mainlog.01, a new mainlog."""
        if os.path.exists(self.path + ".01"):
            os.replace(self.path + ".01", self.path + ".02")
        os.rename(self.path, self.path + ".01")
        self.handle.close()
        self.handle = open(self.path, "a", buffering=1)
        self.rotations += 1


class DovecotGroundTruthLog(GroundTruthLog):
    """A GroundTruthLog of Dovecot's syslog lines with auth_verbose: each
    failed session's attempts told once per attempt by the auth process
    (some of them) and summed up by the login process's line at its end,
    which often comes in a later chunk, so that a kill can fall between a
    session's lines. `written` gets each attempt once, when its first line
    is written."""

    def __init__(self, directory, attacker=None):
        super().__init__(directory, attacker)
        self.open_sessions = []  # (session, address, attempts, told)
        self.sessions = 0

    def write(self, rng, step, count):
        for _ in range(count):
            self.lines += 1
            if self.open_sessions and rng.random() < 0.3:
                session, address, attempts, told = self.open_sessions.pop(rng.randrange(len(self.open_sessions)))
                self.written.extend([address] * (attempts - told))
                line = ("imap-login: Disconnected (auth failed, %d attempts in 2 secs): user=<bob>, "
                        "method=PLAIN, rip=%s, lip=10.0.0.1, session=<%s>" % (attempts, address, session))
            elif rng.random() < 0.2:
                line = "imap(alice)<%d><x%d>: Disconnected: Logged out in=8 out=469" % (self.lines, self.lines)
            else:
                self.sessions += 1
                session = "S%dx%d" % (self.sessions, rng.randrange(1 << 30))
                address = self.attacker(rng, step)
                attempts = rng.randrange(1, 4)
                told = rng.randrange(0, attempts + 1)
                self.written.extend([address] * told)
                self.open_sessions.append((session, address, attempts, told))
                line = "".join(self.dated("auth: passwd-file(bob,%s,<%s>): Password mismatch"
                                          % (address, session)) for _ in range(told))
                if not line:
                    continue
                self.append(line)
                continue
            self.append(self.dated(line))
        self.flush()

    @staticmethod
    def dated(message):
        return "%s mx1 dovecot: %s\n" % (datetime.datetime.now().strftime("%b %d %H:%M:%S"), message)


class TwoSourceLog:
    """Two ground-truth logs in `directory`, both read by the jail [exim]:
    Exim's mainlog as its own logpath, Dovecot's (DovecotGroundTruthLog)
    through a source section [exim/dovecot]; each chunk's lines go to
    either at random, each with attackers of its own (so that each key's
    hits keep their order in the offline replay, which merges the two by
    log time). The interface of GroundTruthLog, for crash_run."""

    def __init__(self, directory):
        self.logs = [GroundTruthLog(os.path.join(directory, "exim", "log")),
                     DovecotGroundTruthLog(os.path.join(directory, "dovecot", "log"), second_source_attacker)]
        self.path = self.logs[0].path
        self.jail_settings = "[exim/dovecot]\nlogpath = %s\nfilter = dovecot\n" % self.logs[1].path
        self.directory = directory

    @property
    def written(self):
        return self.logs[0].written + self.logs[1].written

    @property
    def lines(self):
        return sum(log.lines for log in self.logs)

    @property
    def rotations(self):
        return sum(log.rotations for log in self.logs)

    def write(self, rng, step, count):
        first = rng.randrange(0, count + 1)
        self.logs[0].write(rng, step, first)
        self.logs[1].write(rng, step, count - first)

    def rotate_when_read(self, band):
        wait_for("the daemon to catch up before a rotation", lambda: band.hit_count() >= len(self.written))
        self.logs[0 if self.rotations % 2 == 0 else 1].rotate()

    def offline_config(self, config):
        """`config` (the daemon's) with each source reading its history
        file instead: what `exim-banctl test --jail exim` replays."""
        offline = os.path.join(self.directory, "offline.conf")
        with open(config) as f:
            text = f.read()
        for log in self.logs:
            text = text.replace("logpath = %s\n" % log.path, "logpath = %s\n" % log.history_file())
        with open(offline, "w") as f:
            f.write(text)
        return offline


def second_source_attacker(rng, step):
    """moving_attacker's draw, moved to 198.19.0.0/16 and 2001:db9::/32."""
    return moving_attacker(rng, step).replace("198.18.", "198.19.").replace("2001:db8:", "2001:db9:")


def offline_bans(banctl, config, log, jail="exim"):
    """The bans `exim-banctl test --bans` computes on `log` (None: the
    jail's sources, as the config names them), in the form of
    Band.bans()."""
    command = [banctl, "test", "--bans", "--json", "--config", config, "--jail", jail]
    result = subprocess.run(command + ([log] if log else []), capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise Failure("exim-banctl test failed: " + result.stderr)
    bans = []
    for ban in json.loads(result.stdout)["bans"]:
        start = datetime.datetime.fromisoformat(ban["at"]).replace(tzinfo=datetime.timezone.utc)
        bans.append((jail, ban["host"], int(start.timestamp()), ban["duration"]))
    return sorted(bans)


def compare_bans(want, got):
    """Problems of stored bans `got` against the offline scan's `want`."""
    if want == got:
        return []
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    return ["bans differ from the offline scan: %d missing (e.g. %s), %d extra (e.g. %s)"
            % (len(missing), missing[:3], len(extra), extra[:3])]


Outcome = collections.namedtuple("Outcome", "stored want_bans got_bans problems")


def against_offline_scan(band, log, banctl):
    """The store of `band` against what it read, `log` (a GroundTruthLog):
    Outcome(the stored hits, the offline scan's bans, the stored bans, the
    problems: a hit lost or doubled, bans other than the offline scan's)."""
    stored = band.hits()
    if hasattr(log, "offline_config"):
        want_bans = offline_bans(banctl, log.offline_config(band.config), None)
    else:
        want_bans = offline_bans(banctl, band.config, log.history_file())
    got_bans = band.bans()
    return Outcome(stored, want_bans, got_bans, compare_hits(log.written, stored) + compare_bans(want_bans, got_bans))
