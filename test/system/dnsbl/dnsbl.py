#!/usr/bin/env python3
"""dnsbl.py -- the driver of dnsbl-test; runs inside host A's namespace.

  dnsbl.py run WORK BAND BANCTL MONITOR NS_B NS_DNS NS_BOT

Starts exim-band on A as the package runs it (user exim-ban, group adm,
umask 0027, nftables) with `dnsbl_zone` in the directory that stands for
/run/exim-ban, then Debian's rbldnsd in the DNS namespace as user rbldns
on that file (`-c 1`: it checks the file every second). Then, for IPv4 and
for IPv6:

1. B accepts the bot (it has never seen it misbehave; B runs no exim-band);
2. the bot fails AUTH on A maxretry (3) times with swaks: A bans it
   (the element in A's kernel is the moment of the ban);
3. B, asked by the bot all along, refuses it at connect once rbldnsd
   answers for it: the propagation time is from A's element to B's first
   refusal, broken down into A's zone file being replaced, rbldnsd
   reloading it, and B's refusal; it must be under 2 s;
4. `exim-banctl unban` on A: B accepts the bot again (timed from the unban).

For IPv6 the bot fails from one address of its /64 and B is asked from
another one.
"""

import ctypes
import ipaddress
import os
import re
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from command_line import run_subcommand  # noqa: E402
from failure import Failure  # noqa: E402
from nft_monitor import Monitor, MonitorEnded  # noqa: E402
from say import sayer  # noqa: E402
from test_run import run_test, stop_process  # noqa: E402
from packaged_band import PackagedBand, mode_line  # noqa: E402
from smtp_client import Netns, greet  # noqa: E402

ZONE = "bl.exim-ban.test"
DNS = "10.96.0.53"
A = {4: "10.96.0.1", 6: "fd00:96::1"}
B = {4: "10.96.0.2", 6: "fd00:96::2"}
BOT_FAILS = {4: "10.96.1.10", 6: "fd00:96:1::a"}     # where the bot guesses passwords at A
BOT_ASKS = {4: "10.96.1.10", 6: "fd00:96:1::b"}      # where it then connects to B from
MAXRETRY = 3
PROPAGATION_LIMIT = 2.0      # s, A's ban -> B's first refusal
WAIT = 10.0                  # s, every wait's bound
PROBE_PAUSE = 0.02           # s between two of the bot's connections to B
SWAKS_TIMEOUT = 5


say = sayer("dnsbl")


def monitor_key(address):
    ip = ipaddress.ip_address(address)
    return str(ipaddress.ip_network((ip, 64), strict=False).network_address) if ip.version == 6 else address


def band_key(address):
    ip = ipaddress.ip_address(address)
    return str(ipaddress.ip_network((ip, 64), strict=False)) if ip.version == 6 else address


IN_CLOSE_WRITE, IN_MOVED_TO = 0x8, 0x80


class ZoneWatch:
    """inotify on the zone's directory: each time the zone file is replaced
    (renamed into place) or written, its content and the CLOCK_MONOTONIC
    time inotify reported it."""

    def __init__(self, path):
        self.path = path
        self.name = os.fsencode(os.path.basename(path))
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_CLOEXEC)
        if self.fd < 0 or self.libc.inotify_add_watch(self.fd, os.fsencode(os.path.dirname(path)),
                                                      IN_CLOSE_WRITE | IN_MOVED_TO) < 0:
            raise Failure("inotify on %s: %s" % (os.path.dirname(path), os.strerror(ctypes.get_errno())))
        self.cond = threading.Condition()
        self.versions = []       # (mono ns, content)
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            data = os.read(self.fd, 65536)
            t = time.monotonic_ns()
            at = 0
            hit = False
            while at + 16 <= len(data):
                _wd, _mask, _cookie, length = struct.unpack_from("iIII", data, at)
                name = data[at + 16:at + 16 + length].rstrip(b"\0")
                at += 16 + length
                hit = hit or name == self.name
            if hit:
                try:
                    with open(self.path) as f:
                        content = f.read()
                except FileNotFoundError:
                    continue
                with self.cond:
                    self.versions.append((t, content))
                    self.cond.notify_all()

    def wait(self, predicate, after, timeout):
        """The time of the first version after mono ns `after` whose content
        satisfies predicate, or None."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, content in self.versions:
                    if t >= after and predicate(content):
                        return t
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)


class Rbldnsd:
    """Debian's rbldnsd in the DNS namespace, in the foreground (-n), as user
    rbldns, re-reading the zone file every second (-c 1). Its log lines are
    kept with the time they arrived; "zones reloaded" marks each load."""

    def __init__(self, ns, zone_file, log_path):
        self.argv = ["ip", "netns", "exec", ns, "rbldnsd", "-n", "-u", "rbldns", "-b", "%s/53" % DNS,
                     "-c", "1", "-t", "60", "%s:combined:%s" % (ZONE, zone_file)]
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        self.cond = threading.Condition()
        self.reloads = []          # mono ns
        self.started = False
        self.ended = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        deadline = time.monotonic() + WAIT
        with self.cond:
            while not self.started:
                if self.ended or time.monotonic() > deadline:
                    raise Failure("rbldnsd did not start (see %s)" % log_path)
                self.cond.wait(0.2)

    def _read(self):
        for line in self.process.stdout:
            t = time.monotonic_ns()
            self.log.write("%.3f %s" % (t / 1e9, line))
            self.log.flush()
            with self.cond:
                if "zones reloaded" in line:
                    self.reloads.append(t)
                if " started" in line:
                    self.started = True
                self.cond.notify_all()
        with self.cond:
            self.ended = True
            self.cond.notify_all()

    def reload_after(self, t0):
        with self.cond:
            return next((t for t in self.reloads if t >= t0), None)

    def stop(self):
        stop_process(self.process)
        self.reader.join(timeout=5)
        self.log.close()


class Prober:
    """The bot asks B, one connection after another (PROBE_PAUSE apart),
    until B answers `want` (550: refused at connect, 220: the banner)."""

    def __init__(self, bot_ns, src, dst, want):
        self.bot_ns, self.src, self.dst, self.want = bot_ns, src, dst, want
        self.results = []           # (mono ns start, mono ns answer, code, text)
        self.stop_event = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop_event.is_set():
            t0 = time.monotonic_ns()
            try:
                code, text, _ = greet(self.bot_ns, self.src, self.dst, 25, timeout=5)
            except OSError as e:
                code, text = None, "%s: %s" % (type(e).__name__, e)
            self.results.append((t0, time.monotonic_ns(), code, text))
            if code == self.want:
                break
            self.stop_event.wait(PROBE_PAUSE)
        self.done.set()

    def first(self, timeout):
        """(start, answer, code, text) of the first `want` answer, or None."""
        self.done.wait(timeout)
        self.stop_event.set()
        self.thread.join(timeout=10)
        return next((r for r in self.results if r[2] == self.want), None)


class Test:
    def __init__(self, args):
        self.args = args
        self.work = args["work"]
        self.figures = []
        self.band = self.monitor = self.rbldnsd = None
        self.pending = []

    def swaks(self, src, dst, n):
        fam = 6 if ":" in dst else 4
        argv = ["ip", "netns", "exec", self.args["ns_bot"], "swaks", "--server", dst, "--port", "587",
                "--local-interface", src, "--timeout", str(SWAKS_TIMEOUT), "--helo", "ylmf-pc",
                "--from", "probe@bot.example", "--to", "alice@site.example", "--auth", "LOGIN",
                "--auth-user", "admin", "--auth-password", "guess%d" % n, "--quit-after", "AUTH"]
        if fam == 6:
            argv.append("-6")
        return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    @staticmethod
    def swaks_result(p):
        try:
            out, _ = p.communicate(timeout=3 * SWAKS_TIMEOUT + 10)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate(timeout=10)
        if not re.search(r"^<[~*-]* +535 ", out, re.M):
            raise Failure("the bot's swaks did not get 535 for its AUTH:\n%s" % out[-2500:])

    def greet_b(self, fam, src):
        return greet(self.bot, src, B[fam], 25, timeout=5)

    def cycle(self, fam):
        fails, asks = BOT_FAILS[fam], BOT_ASKS[fam]
        key, mkey = band_key(fails), monitor_key(fails)
        name = "IPv%d %s" % (fam, key if fam == 4 else "%s (fails from %s, asks B from %s)" % (key, fails, asks))
        # 1. B accepts the bot; so does A
        for host, addr in (("B", B[fam]), ("A", A[fam])):
            code, text, _ = greet(self.bot, asks if host == "B" else fails, addr, 25, timeout=5)
            if code != 220:
                raise Failure("%s: before the ban %s answered %s %s, want the banner" % (name, host, code, text))
        # 2. the bot fails AUTH on A maxretry times
        for n in range(MAXRETRY - 1):
            self.swaks_result(self.swaks(fails, A[fam], n))
        if self.monitor.count(mkey):
            raise Failure("%s: banned on A before its %dth failure" % (name, MAXRETRY))
        prober = Prober(self.bot, asks, B[fam], 550)
        last = self.swaks(fails, A[fam], MAXRETRY)
        self.pending.append(last)
        t_ban = self.monitor.wait(mkey, 0, WAIT)
        if t_ban is None:
            prober.first(0)
            raise Failure("%s: not banned on A %.0f s after its %dth failure" % (name, WAIT, MAXRETRY))
        # 3. B refuses it
        refused = prober.first(WAIT + PROPAGATION_LIMIT)
        if refused is None:
            last_answer = prober.results[-1] if prober.results else None
            raise Failure("%s: B still accepts the bot %.0f s after A's ban (last answer: %s)"
                          % (name, WAIT, last_answer and last_answer[2:]))
        t_zone = self.zone.wait(lambda c: key in c.split("\n"), 0, 0)
        t_reload = self.rbldnsd.reload_after(t_zone) if t_zone else None
        accepted_before = sum(1 for r in prober.results if r[2] == 220)
        prop = (refused[1] - t_ban) / 1e9
        parts = []
        if t_zone:
            parts.append("zone file replaced %+.0f ms" % ((t_zone - t_ban) / 1e6))
        if t_reload:
            parts.append("rbldnsd reloaded %+.0f ms" % ((t_reload - t_ban) / 1e6))
        parts.append("B refused %+.0f ms (that connection began %+.0f ms)"
                     % ((refused[1] - t_ban) / 1e6, (refused[0] - t_ban) / 1e6))
        say("%s: banned on A; B refused it at connect %.3f s later (%s); B had accepted it %d time(s) "
            "while it waited" % (name, prop, ", ".join(parts), accepted_before))
        say("  B's answer: %s %s" % (refused[2], refused[3].replace("\n", " ")))
        if prop > PROPAGATION_LIMIT:
            raise Failure("%s: B refused the bot %.3f s after A's ban, more than %.1f s"
                          % (name, prop, PROPAGATION_LIMIT))
        if "banned at %s" % ZONE not in refused[3]:
            raise Failure("%s: B's refusal does not come from its dnslists ACL: %s" % (name, refused[3]))
        # 4. lifted on A: B accepts it again
        t_unban = time.monotonic_ns()
        self.band.banctl("unban", fails)
        t_unbanned = time.monotonic_ns()
        prober = Prober(self.bot, asks, B[fam], 220)
        accepted = prober.first(WAIT)
        if accepted is None:
            raise Failure("%s: B still refuses the bot %.0f s after exim-banctl unban on A" % (name, WAIT))
        t_zone_out = self.zone.wait(lambda c: key not in c.split("\n"), t_unban, 0)
        lift = (accepted[1] - t_unban) / 1e9
        code, text, _ = greet(self.bot, fails, A[fam], 25, timeout=5)
        if code != 220:
            raise Failure("%s: after the unban A answers %s %s" % (name, code, text))
        say("%s: exim-banctl unban on A (%.0f ms): B accepted it again %.3f s later%s; A too"
            % (name, (t_unbanned - t_unban) / 1e6, lift,
               " (zone file replaced %+.0f ms)" % ((t_zone_out - t_unban) / 1e6) if t_zone_out else ""))
        self.figures.append((fam, prop, lift))

    def run(self):
        a = self.args
        self.bot = Netns(a["ns_bot"])
        self.monitor = Monitor(a["monitor"])
        # the zone in the directory that stands for /run/exim-ban (see README.md)
        zone_file = os.path.join(self.work, "run-exim-ban", "exim-ban.zone")
        self.band = PackagedBand(a["band"], a["banctl"], self.work, [os.path.join(self.work, "A", "log", "mainlog")],
                                 default_extra="dnsbl_zone = %s" % zone_file)
        assert os.path.dirname(zone_file) == self.band.run_dir
        self.zone = ZoneWatch(zone_file)
        self.band.start()
        if not os.path.exists(zone_file):
            raise Failure("exim-band started without writing %s" % zone_file)
        say("exim-band on A as the package runs it (exim-ban:adm, umask 0027, nftables), dnsbl_zone = %s"
            % zone_file)
        say("  %s" % mode_line(self.band.run_dir))
        say("  %s" % mode_line(zone_file))
        # the state directory would not do: rbldnsd's user cannot read it
        probe = subprocess.run(["setpriv", "--reuid=rbldns", "--regid=rbldns", "--init-groups", "--",
                                "test", "-x", self.band.state], timeout=30)
        say("  (rbldns %s search %s, the state directory)"
            % ("can" if probe.returncode == 0 else "cannot", mode_line(self.band.state)))
        self.rbldnsd = Rbldnsd(a["ns_dns"], zone_file, os.path.join(self.work, "rbldnsd.log"))
        say("rbldnsd (user rbldns, -c 1) serves %s from A's zone file on %s; B's resolver is %s"
            % (ZONE, DNS, DNS))
        for fam in (4, 6):
            self.cycle(fam)
        for p in self.pending:
            self.swaks_result(p)
        stats = self.band.stats().get("dnsbl", {})
        if stats.get("errors"):
            raise Failure("exim-band's zone export failed %d time(s)" % stats["errors"])
        # B never ran exim-band and its log holds no hit of the bot: its refusals came from DNS
        with open(os.path.join(self.work, "B", "log", "mainlog"), errors="replace") as f:
            blog = f.read()
        refusals = len(re.findall(r"rejected connection in \"connect\" ACL: .* banned at %s" % re.escape(ZONE), blog))
        say("B's mainlog: %d refusal(s) at connect from its dnslists ACL, e.g.:" % refusals)
        for line in blog.splitlines():
            if "rejected connection" in line:
                say("  %s" % line)
                break
        say("exim-band's zone export: %d write(s), no error" % stats.get("writes", 0))

    def summary(self):
        if not self.figures:
            return "no ban propagated"
        return "; ".join("IPv%d: A's ban -> B refuses %.3f s, unban -> B accepts %.3f s" % f for f in self.figures)

    def close(self):
        for p in self.pending:
            if p.poll() is None:
                p.kill()
            p.communicate()
        if self.band is not None and self.band.process is not None:
            try:
                self.band.stop()
            except Failure as e:
                say("while stopping: %s" % e)
        for thing in (self.rbldnsd, self.monitor):
            if thing is not None:
                thing.stop()


def main_run(argv):
    args = dict(zip(("work", "band", "banctl", "monitor", "ns_b", "ns_dns", "ns_bot"), argv))
    if len(args) != 7:
        print("usage: dnsbl.py run WORK BAND BANCTL MONITOR NS_B NS_DNS NS_BOT", file=sys.stderr)
        return 2
    return run_test(Test(args), (Failure, MonitorEnded), say)


if __name__ == "__main__":
    sys.exit(run_subcommand({"run": (main_run, None)}, __doc__))
