#!/usr/bin/env python3
"""acl.py -- the driver of exim-sqlite-acl-test.

  acl.py acl WORK DOCS        write WORK/exim-ban-connect.acl: the connect ACL
                              of DOCS (docs/exim-integration.md) with its
                              database path, threshold and allow file changed
  acl.py addresses            the clients' addresses, one a line
  acl.py run WORK BAND BANCTL MONITOR NS_CLIENTS
                              (in the server namespace) the test

What `run` shows, with Exim (as Debian-exim) and exim-band (as exim-ban:adm,
umask 0027, nftables) as the package and the docs set them up:

1. the key: for IPv6 addresses of every shape of zero and non-zero groups,
   the docs' key expression, expanded by this Exim, is the text exim-band
   stores (and ${mask} is not: it writes dotted IPv6);
2. the bot's history, made through Exim (AUTH where none is advertised):
   IPv4 and one IPv6 /64 over the threshold, IPv4 at it, IPv6 under it;
3. while exim-band writes (a log appended with new attackers, bans into
   nftables, `exim-banctl flush` rewriting the counts) and a Debian-exim
   reader holds a read transaction open: the hosts over the threshold are
   refused at connect with the ACL's message (the /64 from its other
   address), the others get the banner; exim-band's commits never fail
   nor wait, and its bans keep their latency;
4. after exim-band stops: Exim still refuses the hosts over the threshold.
"""

import ipaddress
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from command_line import run_subcommand  # noqa: E402
from failure import Failure  # noqa: E402
from nft_monitor import Monitor, MonitorEnded  # noqa: E402
from say import sayer  # noqa: E402
from test_run import run_test  # noqa: E402
from packaged_band import PackagedBand  # noqa: E402
from smtp_client import Netns, auth_unadvertised, greet  # noqa: E402

THRESHOLD = 4                   # the ACL refuses a count over this (docs: 50)
MAXRETRY = 3
SERVER = {4: "10.97.0.1", 6: "fd00:97::1"}
ACL_MESSAGE = "Blacklisted: Denied access - history of unwanted activity"
ROUNDS = 10                     # probe rounds while exim-band writes
NOISE_RATE = 40                 # new attacker keys a second in the noise log (3 lines each)


class Host:
    """A client: its address(es), the hits its history gets through Exim
    (from addrs[0]), and the address it is probed from."""

    def __init__(self, name, addrs, hits):
        self.name = name
        self.addrs = addrs
        self.hits = hits
        self.probe_from = addrs[-1]
        ip = ipaddress.ip_address(addrs[0])
        self.family = ip.version
        self.key = str(ipaddress.ip_network((ip, 64), strict=False)) if ip.version == 6 else addrs[0]
        self.over = hits > THRESHOLD


HOSTS = [
    Host("IPv4 over the threshold", ["10.97.0.11"], 6),
    Host("IPv6 /64 over the threshold (hits from ::a, probed from ::b)", ["fd00:97:5::a", "fd00:97:5::b"], 6),
    Host("IPv4 at the threshold", ["10.97.0.12"], THRESHOLD),
    Host("IPv6 /64 under the threshold (hits from ::a, probed from ::b)", ["fd00:97:6::a", "fd00:97:6::b"], 2),
    Host("IPv4 never seen", ["10.97.0.13"], 0),
    Host("IPv6 never seen", ["fd00:97:7::a"], 0),
]


say = sayer("exim-sqlite-acl")


# =============================================================================
# acl.py acl WORK DOCS
# =============================================================================

def state_db(work):
    return os.path.join(work, "var-lib-exim-ban", "exim-ban.db")   # as PackagedBand lays it out


def docs_acl(docs):
    """The code block after the docs' "`/etc/exim4/exim-ban-connect.acl`"."""
    with open(docs) as f:
        text = f.read()
    at = text.find("`/etc/exim4/exim-ban-connect.acl`")
    if at < 0:
        raise Failure("%s does not name /etc/exim4/exim-ban-connect.acl" % docs)
    m = re.compile(r"^```[a-z]*\n(.*?)^```", re.M | re.S).search(text, at)
    if not m:
        raise Failure("no code block after /etc/exim4/exim-ban-connect.acl in %s" % docs)
    return m.group(1)


def main_acl(work, docs):
    acl = docs_acl(docs)
    db = "/var/lib/exim-ban/exim-ban.db"
    if db not in acl or "lookup sqlite" not in acl:
        raise Failure("the docs' connect ACL has no sqlite lookup of %s" % db)
    acl = acl.replace(db, state_db(work))
    # the threshold: the one number compared with the count, "{50}}"
    n = len(re.findall(r"\}\{50\}\}", acl))
    if n != 1:
        raise Failure("the docs' connect ACL compares with {50} %d times, expected once" % n)
    acl = re.sub(r"\}\{50\}\}", "}{%d}}" % THRESHOLD, acl)
    acl = acl.replace("/etc/exim4/submission-hosts", os.path.join(work, "submission-hosts"))
    path = os.path.join(work, "exim-ban-connect.acl")
    with open(path, "w") as f:
        f.write("# docs/exim-integration.md's connect ACL; test paths, threshold %d\n" % THRESHOLD + acl)
    os.chmod(path, 0o644)
    return 0


def key_expression(work):
    """The docs' key: the value of `set acl_c_eb_key = ...` (continuation
    lines joined)."""
    with open(os.path.join(work, "exim-ban-connect.acl")) as f:
        acl = f.read().replace("\\\n", "")
    m = re.search(r"set\s+(acl_[cm]_?\w+)\s*=\s*(.*)$", acl, re.M)
    if not m:
        raise Failure("the docs' connect ACL sets no ACL variable to the key")
    return m.group(1), re.sub(r"\s{2,}", "", m.group(2).strip())


def main_addresses():
    for h in HOSTS:
        for a in h.addrs:
            print(a)
    return 0


# =============================================================================
# acl.py run
# =============================================================================

def percentile(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    return v[max(1, -(-len(v) * p // 100)) - 1]


def failure_line(address):
    return ("%s login authenticator failed for (ylmf-pc) [%s]: 535 Incorrect authentication data "
            "(set_id=admin)\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), address))


def noise_address(n):
    """A new attacker for each n: 198.18.0.0/15, every fifth an IPv6 /64."""
    if n % 5 == 4:
        return "2001:db8:ff:%x::1" % n
    return str(ipaddress.IPv4Address("198.18.0.0") + n + 1)


def monitor_key(address):
    """The element live_bench_monitor prints: the address, or the /64's network."""
    ip = ipaddress.ip_address(address)
    return str(ipaddress.ip_network((ip, 64), strict=False).network_address) if ip.version == 6 else address


class Noise:
    """New attackers in a second log exim-band follows: 3 failure lines each
    (one write), NOISE_RATE keys a second; each is banned in nftables."""

    def __init__(self, path, monitor, start):
        self.path = path
        self.monitor = monitor
        self.n = start
        self.written = {}           # monitor key -> mono ns of its write
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        with open(self.path, "a") as f:
            while not self.stop_event.wait(1.0 / NOISE_RATE):
                a = noise_address(self.n)
                self.n += 1
                f.write(failure_line(a) * MAXRETRY)
                f.flush()
                self.written[monitor_key(a)] = time.monotonic_ns()

    def start(self):
        self.thread.start()

    def stop(self):
        self.stop_event.set()
        self.thread.join(timeout=10)

    def latencies(self, timeout):
        """ms from each key's write to its element; raises if one is missing."""
        out = []
        deadline = time.monotonic() + timeout
        for key, t in sorted(self.written.items(), key=lambda kv: kv[1]):
            left = max(0.0, deadline - time.monotonic())
            t_el = self.monitor.wait(key, 0, left)
            if t_el is None:
                raise Failure("noise attacker %s: no element in the kernel %.0f s after its 3 lines" % (key, timeout))
            out.append((t_el - t) / 1e6)
        return out


class Reader:
    """A reader as Exim's user (Debian-exim, with the groups the namespace
    gives it): opens the database read-only, begins a read transaction and
    holds it until told to stop, then reads again outside it."""

    SCRIPT = r"""
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=5, isolation_level=None)
q = "SELECT count(*), coalesce(sum(count), 0) FROM blacklist"
db.execute("BEGIN")
first = db.execute(q).fetchone()
print("holding", *first, flush=True)
sys.stdin.readline()
again = db.execute(q).fetchone()
db.execute("COMMIT")
after = db.execute(q).fetchone()
print("done", *(first + again + after), flush=True)
"""

    def __init__(self, database):
        self.process = subprocess.Popen(
            ["setpriv", "--reuid=Debian-exim", "--regid=Debian-exim", "--init-groups", "--",
             sys.executable, "-c", self.SCRIPT, database],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().split()
        if not line or line[0] != "holding":
            raise Failure("a Debian-exim reader could not read the database: %s %s"
                          % (line, self.process.stderr.read()[-2000:]))
        self.first = (int(line[1]), int(line[2]))

    def finish(self):
        out, err = self.process.communicate("go\n", timeout=30)
        parts = out.split()
        if self.process.returncode != 0 or not parts or parts[0] != "done":
            raise Failure("the Debian-exim reader failed: %s %s" % (out, err[-2000:]))
        v = [int(x) for x in parts[1:]]
        return (v[0], v[1]), (v[2], v[3]), (v[4], v[5])


class Test:
    def __init__(self, args):
        self.args = args
        self.work = args["work"]
        self.conf = os.path.join(self.work, "exim.conf")
        self.mainlog = os.path.join(self.work, "log", "mainlog")
        self.noise_log = os.path.join(self.work, "noise.log")
        open(self.noise_log, "a").close()
        os.chmod(self.noise_log, 0o644)
        self.refused = {4: 0, 6: 0}
        self.accepted = 0
        self.greet_times = []
        self.notes = []
        self.band = None
        self.monitor = None

    def exim_be(self, expression, user=None):
        argv = ["exim", "-C", self.conf, "-be", expression]
        if user:
            argv = ["setpriv", "--reuid=%s" % user, "--regid=%s" % user, "--init-groups", "--"] + argv
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return p.returncode, p.stdout.strip(), p.stderr.strip()

    # --- 1. the key ----------------------------------------------------------------
    def key_check(self):
        var, expr = key_expression(self.work)
        samples = []
        values = (0x2001, 0xdb8, 0xabcd, 0x7)
        for bits in range(1, 16):              # every shape but ::/64 (0:0:0:0)
            groups = [values[i] if bits & (1 << (3 - i)) else 0 for i in range(4)]
            samples.append(str(ipaddress.IPv6Address(
                (sum(g << (112 - 16 * i) for i, g in enumerate(groups))) | 0x5a5a)))
        samples += ["2001:db8:0:1::1", "2001:db8:100:0:ffff::1", "2a02:1:2:3:4:5:6:7", "fd00:0:0:a0::1"]
        with open(self.noise_log, "a") as f:
            f.write("".join(failure_line(a) for a in samples))
        self.wait_counts({str(ipaddress.ip_network((a, 64), strict=False)): 1 for a in samples},
                         "the key samples' hits")
        rows = {r[0] for r in self.band.query("SELECT ip FROM blacklist WHERE ip LIKE '%:%'")}
        bad = []
        for a in samples:
            code, out, err = self.exim_be(expr.replace("$sender_host_address", a))
            if code != 0 or out not in rows:
                bad.append("%s: Exim %r%s, exim-ban stores %s" % (
                    a, out, (" (%s)" % err) if err else "",
                    sorted(r for r in rows if r.startswith(a.split(":")[0]))[:3]))
        if bad:
            raise Failure("the docs' key (%s = %s) is not the text exim-ban stores:\n  %s"
                          % (var, expr, "\n  ".join(bad)))
        code, dotted, _ = self.exim_be("${mask:2001:db8:1:2::5/64}")
        _, mask_n, _ = self.exim_be("${mask_n:2001:db8:1:2::5/64}")
        say("key: the docs' %s = %s gives exim-ban's key for %d IPv6 addresses (every shape of zero "
            "groups but ::/64); this Exim's ${mask:2001:db8:1:2::5/64} is %s, ${mask_n:...} is %s"
            % (var, expr, len(samples), dotted, mask_n))

    # --- helpers ---------------------------------------------------------------------
    def wait_counts(self, want, what, timeout=15):
        """flush until the view shows at least `want` (key -> count)."""
        deadline = time.monotonic() + timeout
        while True:
            self.band.alive()
            self.band.banctl("flush")
            got = self.band.counts(list(want))
            if all(got[k] >= n for k, n in want.items()):
                return got
            if time.monotonic() > deadline:
                raise Failure("after %d s the view shows %s for %s, expected %s" % (timeout, got, what, want))
            time.sleep(0.05)

    def probe(self, hosts, why):
        with ThreadPoolExecutor(max_workers=len(hosts)) as ex:
            results = list(ex.map(lambda h: (h, self.greet(h)), hosts))
        bad = []
        for h, (code, text, took) in results:
            if h.over:
                if code != 550 or ACL_MESSAGE not in text:
                    bad.append("%s from %s: %s %s, want 550 %s" % (h.name, h.probe_from, code, text, ACL_MESSAGE))
                else:
                    self.refused[h.family] += 1
            elif code != 220:
                bad.append("%s from %s: %s %s, want the banner (220)" % (h.name, h.probe_from, code, text))
            else:
                self.accepted += 1
            if code in (220, 550):
                self.greet_times.append(took * 1000)
        if bad:
            raise Failure("%s:\n  %s" % (why, "\n  ".join(bad)))
        return results

    def greet(self, h):
        try:
            return greet(self.clients, h.probe_from, SERVER[h.family], 25, timeout=5)
        except OSError as e:
            return None, "%s: %s" % (type(e).__name__, e), 0.0

    # --- the run -----------------------------------------------------------------------
    def run(self):
        a = self.args
        self.clients = Netns(a["ns_clients"])
        self.monitor = Monitor(a["monitor"])
        self.band = PackagedBand(a["band"], a["banctl"], self.work, [self.mainlog, self.noise_log],
                                 jail_extra="ports = 465,587\n")
        # before exim-band's first start there is no database: what the recipe does then
        code, text, _ = self.greet(HOSTS[4])
        self.notes.append("before exim-band's first start (state directory there, no database yet) Exim "
                          "answered a new host: %s %s" % (code, text))
        self.band.start()
        table = subprocess.run(["nft", "list", "table", "inet", "exim_ban"], capture_output=True, text=True,
                               timeout=30)
        if table.returncode != 0 or "@exim_v4" not in table.stdout:
            raise Failure("exim-band started but table inet exim_ban is not as expected:\n%s%s"
                          % (table.stdout, table.stderr))
        say("exim-band started as the package runs it (user exim-ban, group adm, umask 0027, CAP_NET_ADMIN, "
            "nftables on 465 and 587); Exim's connect ACL reads %s with the docs' recipe, threshold %d"
            % (self.band.database, THRESHOLD))
        for line in self.band.files():
            say("  %s" % line)
        code, out, err = self.exim_be("${lookup sqlite,file=%s {select count(*) from blacklist}{$value}{FAILED}}"
                                      % self.band.database, user="Debian-exim")
        if out == "FAILED" or code != 0:
            raise Failure("Debian-exim (in group adm) cannot read the database: %s %s" % (out, err))
        say("Debian-exim, a member of adm as the docs say, reads the database (exim -be: %s row(s))" % out)

        # 1. the key
        self.key_check()

        # 2. the bot's history, through Exim
        for h in HOSTS:
            left = h.hits
            while left:
                n = min(left, MAXRETRY)
                codes = auth_unadvertised(self.clients, h.addrs[0], SERVER[h.family], 25, n)
                if codes != [503] * n:
                    raise Failure("%s: AUTH LOGIN got %s, expected 503 each" % (h.name, codes))
                left -= n
        want = {h.key: h.hits for h in HOSTS if h.hits}
        got = self.wait_counts(want, "the bot's hits")
        if got != want:
            raise Failure("the view shows %s, the bot made %s" % (got, want))
        kernel = self.nft_keys()
        banned = [h for h in HOSTS if h.hits >= MAXRETRY]
        missing = [h.key for h in banned if monitor_key(h.addrs[0]) not in kernel]
        if missing:
            raise Failure("%s not banned in nftables after %d hits" % (missing, MAXRETRY))
        say("the bot's history, made through Exim (AUTH where none is advertised, port 25): %s; banned in "
            "nftables on 465 and 587: %s" % (", ".join("%s %d" % (k, n) for k, n in got.items()),
                                            ", ".join(h.key for h in banned)))
        self.probe(HOSTS, "before the writes")

        # 3. while exim-band writes and a Debian-exim reader holds a snapshot
        stats0 = self.band.stats()
        reader = Reader(self.band.database)
        noise = Noise(self.noise_log, self.monitor, 1000)
        stop_flush = threading.Event()
        flushes = [0]

        def flusher():
            while not stop_flush.wait(0.5):
                self.band.banctl("flush", check=False)
                flushes[0] += 1
        flush_thread = threading.Thread(target=flusher, daemon=True)
        noise.start()
        flush_thread.start()
        t0 = time.monotonic()
        try:
            pace = threading.Event()
            for r in range(ROUNDS):
                self.probe(HOSTS, "round %d while exim-band writes" % (r + 1))
                pace.wait(0.5)
        finally:
            noise.stop()
            stop_flush.set()
            flush_thread.join(timeout=30)
        busy = time.monotonic() - t0
        held, held_again, after = reader.finish()
        lat = noise.latencies(timeout=15)
        stats1 = self.band.stats()
        if stats1["store_errors"] != stats0["store_errors"]:
            raise Failure("exim-band's commits failed %d time(s) while Exim read"
                          % (stats1["store_errors"] - stats0["store_errors"]))
        if held_again != held:
            raise Failure("the reader's snapshot changed inside its transaction: %s -> %s" % (held, held_again))
        if not after[0] > held[0]:
            raise Failure("the reader sees no new keys after its transaction: %s -> %s" % (held, after))
        commits = stats1["commits"] - stats0["commits"]
        lat_hist = stats1.get("batch_latency", {})
        say("while exim-band wrote for %.1f s (%d new attackers in a second log, %d bans into nftables, "
            "%d commits, %d flushes of the counts, no store error) and a Debian-exim reader held one read "
            "transaction open (%d keys in its snapshot, %d after it): %d probes answered as the counts say"
            % (busy, len(lat), len(lat), commits, flushes[0], held[0], after[0], ROUNDS * len(HOSTS)))
        say("  ban latency of those attackers (line written -> element in the kernel): p50 %.2f ms, p99 %.2f ms, "
            "max %.2f ms (n=%d); exim-band's own commit-to-kernel time: %.2f ms on average"
            % (percentile(lat, 50), percentile(lat, 99), max(lat), len(lat),
               1000 * lat_hist.get("sum_s", 0) / max(1, lat_hist.get("count", 1))))
        if max(lat) > 5000:
            raise Failure("a ban took %.0f ms while Exim read the database" % max(lat))
        got = self.band.counts([h.key for h in HOSTS if h.over])
        say("  Exim's refusals are hits too (\"Blacklisted: Denied access\" is in the filter): the counts of "
            "the refused keys rose to %s" % ", ".join("%s %d" % kv for kv in got.items()))

        # 4. exim-band stops: Exim must still refuse the hosts over the threshold
        self.band.stop()
        files = self.band.files()
        say("exim-band stopped (SIGTERM, exit 0); the database files now:")
        for line in files:
            say("  %s" % line)
        try:
            self.probe(HOSTS, "after exim-band stopped")
        except Failure as e:
            code, out, err = self.exim_be("${lookup sqlite,file=%s {select count(*) from blacklist}{$value}{FAILED}}"
                                          % self.band.database, user="Debian-exim")
            why = ""
            d = subprocess.run(["setpriv", "--reuid=Debian-exim", "--regid=Debian-exim", "--init-groups", "--",
                                "exim", "-C", self.conf, "-d+lookup", "-be",
                                "${lookup sqlite,file=%s {select count(*) from blacklist}}" % self.band.database],
                               capture_output=True, text=True, timeout=30)
            m = re.search(r"sqlite3_exec failed: (.*)|sqlite3_open failed: (.*)", d.stdout + d.stderr)
            if m:
                why = m.group(1) or m.group(2)
            gone = [p for p in (self.band.database + "-wal", self.band.database + "-shm") if not os.path.exists(p)]
            raise Failure("%s\n  Debian-exim's lookup now gives %r (SQLite: %s). %s" % (
                e, out, why or err,
                ("SQLite deleted %s when exim-band closed the database; a reader without write permission "
                 "on the directory cannot open a WAL database without them, the lookup fails and the "
                 "recipe's {0} lets every host in. exim-band must keep them: "
                 "sqlite3_file_control(db, \"main\", SQLITE_FCNTL_PERSIST_WAL, &one) in daemon/store"
                 % " and ".join(os.path.basename(p) for p in gone)) if gone else ""))
        say("after exim-band stopped: Exim still refuses the hosts over the threshold and accepts the others")
        # and once it runs again on the files it left
        self.band.start()
        self.probe(HOSTS, "after exim-band started again")
        self.band.stop()
        say("exim-band started again on those files: the same answers; stopped again")

    def nft_keys(self):
        j = self.band.banctl_json("nft-list", config=False)
        return {e["element"].split("/")[0] for e in j.get("elements", [])}

    def summary(self):
        g = self.greet_times
        return ("refused at connect with \"%s\": %d (IPv4 %d, IPv6 /64 from its other address %d); "
                "accepted: %d; Exim's time to the greeting or refusal p50 %.1f ms, max %.1f ms (n=%d)"
                % (ACL_MESSAGE, self.refused[4] + self.refused[6], self.refused[4], self.refused[6],
                   self.accepted, percentile(g, 50) if g else 0, max(g) if g else 0, len(g)))

    def close(self):
        if self.band is not None and self.band.process is not None:
            try:
                self.band.stop()
            except Failure as e:
                say("while stopping: %s" % e)
        if self.monitor is not None:
            self.monitor.stop()


def main_run(argv):
    args = dict(zip(("work", "band", "banctl", "monitor", "ns_clients"), argv))
    if len(args) != 5:
        print("usage: acl.py run WORK BAND BANCTL MONITOR NS_CLIENTS", file=sys.stderr)
        return 2
    return run_test(Test(args), (Failure, MonitorEnded), say)


def main():
    try:
        return run_subcommand({"acl": (main_acl, 2), "addresses": (main_addresses, 0), "run": (main_run, None)},
                              __doc__)
    except Failure as e:
        say("FAIL: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
