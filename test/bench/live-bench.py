#!/usr/bin/python3
"""live-bench: exim-band on a live, growing Exim mainlog.

In one run, inside a network namespace of its own (it re-executes itself
under `unshare --net`; the host's ruleset is never touched) and with the
real nftables backend:

1. sustained ingest: a generated mainlog (scan-bench's generator, current
   timestamps) copied in large whole-line writes into the file exim-band
   follows, from an empty start, until the store holds every hit: lines/s
   and hits/s with hits persisted, bans, peak RSS; `exim-banctl test` on the
   same log beside it, and the ratio;
2. append-to-ban latency: the write() of the line that brings a fresh
   address to maxretry -> the element announced by nf_tables on netlink
   (live_bench_monitor, CLOCK_MONOTONIC on both sides), idle and under a
   rate-controlled stream of ordinary Exim lines; p50/p90/p99/max;
3. the daemon's RSS after the run.

See test/bench/README.md. Exits non-zero only when something fails to run.
"""

import argparse
import calendar
import datetime
import importlib.util
import ipaddress
import json
import math
import os
import random
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from importlib.machinery import SourceFileLoader

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "system", "support"))
from failure import Failure  # noqa: E402
from say import sayer  # noqa: E402
from test_run import terminate  # noqa: E402

REPO = os.path.normpath(os.path.join(HERE, "..", ".."))

# Targets from DESIGN.md, section Targets.
TARGET_INGEST_LPS = 1_000_000
TARGET_OFFLINE_SHARE = 0.25
TARGET_P99_MS = 10.0

FINDTIME = 600            # the config's findtime (the default, 10m)
COPY_CHUNK = 4 << 20      # the ingest writer's write size (cut back to a line end)
BAN_V4_BASE = int(ipaddress.IPv4Address("198.18.0.0"))   # RFC 2544 benchmarking range: never in the log
BAN_V6_BASE = 0x3FFF0000BA5E0000                           # 3fff::/20, documentation: never in the log
MAX_BANS = 30_000         # per phase: the addresses above stay distinct


say = sayer(None, sys.stderr)


def fmt_n(n):
    return "{:,}".format(int(round(n)))


def load_scan_bench():
    """scan-bench.py's generator, as a module (its name is no module name)."""
    path = os.path.join(HERE, "scan-bench.py")
    loader = SourceFileLoader("scan_bench", path)
    spec = importlib.util.spec_from_loader("scan_bench", loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["scan_bench"] = module      # the generator's worker processes pickle its functions
    loader.exec_module(module)
    return module


def local_now():
    """Now as local wall-clock seconds counted as if UTC: Exim's timestamps' scale."""
    return calendar.timegm(time.localtime())


def stamp():
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def failure_line(address):
    """One hit of `address` in the shipped exim filter's mode normal (band_harness.py)."""
    return ("%s login authenticator failed for (ylmf-pc) [%s]: 535 Incorrect "
            "authentication data (set_id=admin)\n" % (stamp(), address))


# --- the log -----------------------------------------------------------------
def generate_log(sb, path, args, lines, span, attack_share, jobs, attackers=0):
    """scan-bench.py's mainlog with current timestamps: `lines` lines spread
    evenly over the `span` seconds that end now (local time)."""
    end = local_now()
    midnight = end - end % 86400
    offset = end - span - midnight
    sb.START = midnight                         # the date of each line: START + its day
    sb.warp = lambda u, _o=offset: _o + u       # seconds since START; no daily curve in minutes
    gen_args = argparse.Namespace(seed=args.seed, lines=lines, rate=lines / span, attack_share=attack_share,
                                  style="mixed", jobs=jobs, attackers=attackers)
    files = sb.corpus_paths(argparse.Namespace(no_corpus=args.no_corpus, corpus_dir=None))
    corpus = sb.load_corpus(files)
    manifest = sb.generate(path, gen_args, corpus, files)
    manifest["first_line_local"] = end - span
    manifest["last_line_local"] = end
    return manifest


def background_bodies(sb, args, work):
    """Ordinary Exim lines (no attack shapes at all), timestamps cut off."""
    path = os.path.join(work, "benign")
    generate_log(sb, path, args, 200_000, 60, 0.0, 1)
    bodies = []
    with open(path, "rb") as f:
        for line in f:
            bodies.append(line[19:-1])          # after "YYYY-MM-DD HH:MM:SS", without "\n"
    os.unlink(path)
    os.unlink(path + ".manifest.json")
    path = os.path.join(work, "benign.bodies")
    with open(path, "wb") as f:
        f.write(b"\n".join(bodies) + b"\n")
    return path, len(bodies)


def background_writer(path, rate, bodies_path):
    """The background stream (run as its own process): ordinary lines at
    `rate` lines/s, appended with O_APPEND, whole lines per write(), about
    one write a millisecond, current timestamps. Stops on SIGTERM and prints
    {"lines": N, "seconds": S, "writes": W}."""
    with open(bodies_path, "rb") as f:
        bodies = f.read().split(b"\n")[:-1]
    n = len(bodies)
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__(0, True))
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    written = writes = 0
    pos = 0
    ts_sec, ts = -1, b""
    print("started", flush=True)
    t0 = time.monotonic()
    tick = 0
    while not stop[0]:
        # One write a millisecond of the lines due by then (late ticks catch up).
        tick += 1
        wait = t0 + tick * 0.001 - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        due = int((time.monotonic() - t0) * rate) - written
        if due <= 0:
            continue
        due = min(due, max(1, rate // 100))      # never more than 10 ms of lines in one write
        sec = int(time.time())
        if sec != ts_sec:
            ts_sec, ts = sec, datetime.datetime.fromtimestamp(sec).strftime("%Y-%m-%d %H:%M:%S").encode()
        if pos + due > n:
            pos = 0
        os.write(fd, ts + (b"\n" + ts).join(bodies[pos:pos + due]) + b"\n")
        pos += due
        written += due
        writes += 1
    secs = time.monotonic() - t0
    os.close(fd)
    print(json.dumps({"lines": written, "seconds": secs, "writes": writes}), flush=True)


# --- the daemon ----------------------------------------------------------------
class Daemon:
    def __init__(self, band, work, logpath):
        self.band = band
        self.dir = work
        self.database = os.path.join(work, "state.db")
        self.config = os.path.join(work, "exim-ban.conf")
        self.stderr_path = os.path.join(work, "exim-band.log")
        self.logpath = logpath
        os.symlink(os.path.join(REPO, "filters"), os.path.join(work, "filters.d"))
        with open(self.config, "w") as f:
            f.write("[DEFAULT]\nignoreself = false\nfindtime = %ds\ndatabase = %s\nsocket = %s\n\n"
                    "[exim]\nenabled = true\nlogpath = %s\nfilter = exim\nmaxretry = 3\n"
                    % (FINDTIME, self.database, os.path.join(work, "control.sock"), logpath))
        self.process = None
        self.db = None

    def start(self, timeout=30):
        self.stderr = open(self.stderr_path, "ab")
        self.process = subprocess.Popen([self.band, "--foreground", "--config", self.config],
                                        stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr)
        deadline = time.monotonic() + timeout
        while " started: " not in self.log():
            if self.process.poll() is not None:
                raise Failure("exim-band exited with %d at start:\n%s" % (self.process.returncode, self.log()[-3000:]))
            if time.monotonic() > deadline:
                raise Failure("exim-band did not log \"started:\" within %d s:\n%s" % (timeout, self.log()[-3000:]))
            time.sleep(0.01)

    def alive(self):
        if self.process.poll() is not None:
            raise Failure("exim-band exited with %d:\n%s" % (self.process.returncode, self.log()[-3000:]))

    def log(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def query(self, sql, *params):
        if self.db is None:
            self.db = sqlite3.connect("file:%s?mode=ro" % self.database, uri=True, timeout=10)
        try:
            rows = self.db.execute(sql, params).fetchall()   # run to the end: no snapshot kept
            return rows[0] if rows else None
        except sqlite3.OperationalError:
            return None          # not created yet

    def hits(self):
        row = self.query("SELECT coalesce(sum(count), 0) FROM hit_batches")
        return row[0] if row else 0

    def offset(self):
        row = self.query("SELECT offset FROM files WHERE path = ?", self.logpath)
        return row[0] if row else 0

    def bans(self):
        row = self.query("SELECT count(*) FROM bans")
        return row[0] if row else 0

    def status(self):
        """VmHWM and VmRSS in MB."""
        out = {}
        with open("/proc/%d/status" % self.process.pid) as f:
            for line in f:
                if line.startswith(("VmHWM:", "VmRSS:")):
                    out[line.split(":")[0]] = int(line.split()[1]) / 1024.0
        return out

    def stop(self, timeout=30):
        if self.db is not None:
            self.db.close()
            self.db = None
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        try:
            return terminate(self.process, timeout)
        finally:
            self.stderr.close()


def sched(pid):
    """(seconds on a CPU, seconds runnable but waiting for one) of a process so far."""
    with open("/proc/%d/schedstat" % pid) as f:
        run_ns, wait_ns = f.read().split()[:2]
    return int(run_ns) / 1e9, int(wait_ns) / 1e9


def cpu_stat():
    """Machine-wide CPU seconds: (busy, idle + iowait, steal)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
    return (user + nice + system + irq + softirq) / hz, (idle + iowait) / hz, steal / hz


def wait_until(what, condition, timeout, interval=0.005, daemon=None):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if daemon is not None:
            daemon.alive()
        if time.monotonic() > deadline:
            raise Failure("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def kernel_elements():
    """Elements in the jail's two sets, as nft counts them."""
    total = 0
    for s in ("exim_v4", "exim_v6"):
        p = subprocess.run(["nft", "-j", "list", "set", "inet", "exim_ban", s], capture_output=True, text=True,
                           timeout=120)
        if p.returncode != 0:
            raise Failure("nft list set inet exim_ban %s: %s" % (s, p.stderr.strip()))
        for item in json.loads(p.stdout)["nftables"]:
            if "set" in item:
                total += len(item["set"].get("elem", []))
    return total


# --- 1. ingest ---------------------------------------------------------------------
def run_banctl(args, log, work, runs):
    results = []
    for r in range(runs):
        say("live-bench: exim-banctl test run %d/%d" % (r + 1, runs))
        out = os.path.join(work, "banctl.json")
        with open(out, "wb") as o:
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            p = subprocess.run([args.banctl, "test", log, "exim", "--json"], stdout=o, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, timeout=600)
            secs = time.perf_counter() - t0
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        if p.returncode != 0:
            raise Failure("exim-banctl test exited %d: %s" % (p.returncode, p.stderr.decode(errors="replace")[-2000:]))
        try:
            with open(out) as f:
                j = json.load(f)
            results.append({"seconds": secs, "cpu_seconds": cpu, "lines": int(j["lines"]), "matched": int(j["matched"]),
                            "hosts": len(j.get("hosts") or {})})
        except (OSError, ValueError, KeyError, TypeError) as ex:
            raise Failure("exim-banctl test printed no usable JSON: %s" % ex)
    median = sorted(results, key=lambda r: r["seconds"])[len(results) // 2]
    out = dict(median)
    out.update(runs=[round(r["seconds"], 3) for r in results],
               cpu_runs=[round(r["cpu_seconds"], 3) for r in results])
    return out


def ingest(args, daemon, source, followed, expected_hits, lines):
    """Copies `source` into `followed` in COPY_CHUNK whole-line writes and
    waits until the store holds `expected_hits`."""
    perf = None
    if args.perf_record:
        perf = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "999", "-g", "-p",
                                 str(daemon.process.pid), "-o", args.perf_record],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
    src = os.open(source, os.O_RDONLY)
    dst = os.open(followed, os.O_WRONLY | os.O_APPEND)
    rest = b""
    writes = 0
    cpu0, wait0 = sched(daemon.process.pid)
    m0 = cpu_stat()
    t0 = time.monotonic()
    while True:
        b = os.read(src, COPY_CHUNK)
        if not b:
            break
        b = rest + b
        cut = b.rfind(b"\n") + 1
        rest = b[cut:]
        view = memoryview(b)[:cut]
        while view:
            n = os.write(dst, view)
            view = view[n:]
        writes += 1
    if rest:
        os.write(dst, rest)
    t_writer = time.monotonic()
    os.close(src)
    os.close(dst)
    size = os.path.getsize(followed)

    # Every hit in the store: the measurement's end.
    last, last_change, deadline = -1, time.monotonic(), t0 + args.ingest_timeout
    t_hits = None
    while True:
        now = time.monotonic()
        h = daemon.hits()
        if h >= expected_hits:
            t_hits = now
            cpu1, wait1 = sched(daemon.process.pid)
            m1 = cpu_stat()
            break
        if h != last:
            last, last_change = h, now
        daemon.alive()
        if now - last_change > args.stall_timeout or now > deadline:
            raise Failure("the store holds %s of %s hits %.0f s after the first write (no progress for %.0f s); "
                            "see %s" % (fmt_n(h), fmt_n(expected_hits), now - t0, now - last_change,
                                        daemon.stderr_path))
        time.sleep(0.005)
    # ... and the offset of the last line committed (the lines after the last hit).
    wait_until("the committed offset to reach the end of the log", lambda: daemon.offset() >= size, 30, daemon=daemon)
    t_offset = time.monotonic()
    stored = daemon.hits()
    if stored != expected_hits:
        raise Failure("the store holds %s hits, exim-banctl test matched %s lines: lost or counted twice"
                        % (fmt_n(stored), fmt_n(expected_hits)))
    if perf:
        perf.send_signal(signal.SIGINT)
        try:
            perf.wait(timeout=60)
        except subprocess.TimeoutExpired:
            perf.kill()
    secs = t_hits - t0
    cpu, runq = cpu1 - cpu0, wait1 - wait0
    return {"machine_busy_cpu_seconds": round(m1[0] - m0[0], 2), "machine_idle_cpu_seconds": round(m1[1] - m0[1], 2),
            "machine_steal_seconds": round(m1[2] - m0[2], 2),
            "cpu_seconds": round(cpu, 3), "runqueue_seconds": round(runq, 3),
            "blocked_seconds": round(max(0.0, secs - cpu - runq), 3), "lines_per_cpu_s": lines / cpu,
            "batches_with_hits": (daemon.query("SELECT count(*) FROM hit_batches") or [0])[0],"lines": lines, "bytes": size, "writes": writes, "write_size_mb": COPY_CHUNK / (1 << 20),
            "writer_seconds": round(t_writer - t0, 3), "writer_lines_per_s": lines / (t_writer - t0),
            "seconds": round(secs, 3), "lines_per_s": lines / secs, "hits": expected_hits,
            "hits_per_s": expected_hits / secs, "offset_committed_seconds": round(t_offset - t0, 3)}


# --- 2. latency --------------------------------------------------------------------
class Monitor:
    """live_bench_monitor's announcements: key -> CLOCK_MONOTONIC ns."""

    def __init__(self, path, fifo):
        cmd = [path]
        self.realtime = False
        if fifo and shutil.which("chrt"):
            cmd = ["chrt", "-f", "10", path]
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        stdin=subprocess.DEVNULL, text=True, bufsize=1)
        first = self.process.stdout.readline()
        if first.strip() != "ready" and fifo:
            self.process.wait(timeout=5)
            self.__init__(path, False)      # chrt refused: an ordinary process then
            return
        if first.strip() != "ready":
            raise Failure("live_bench_monitor did not start: %s %s" % (first, self.process.stderr.read()[-2000:]))
        self.realtime = cmd[0] == "chrt"
        self.seen = {}
        self.overruns = 0
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.process.stdout:
            f = line.split()
            with self.cond:
                if f and f[0] == "overrun":
                    self.overruns += 1
                elif len(f) == 5:
                    try:
                        key = ipaddress.ip_address(f[4])
                    except ValueError:
                        continue
                    self.seen.setdefault((f[3], key), int(f[0]))
                self.cond.notify_all()

    def wait(self, set_name, key, timeout):
        with self.cond:
            self.cond.wait_for(lambda: (set_name, key) in self.seen, timeout)
            return self.seen.get((set_name, key))

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def attacker(phase, i):
    """Fresh address i of a phase (every fourth IPv6), its set and its key."""
    if i % 4 == 3:
        prefix = BAN_V6_BASE | (phase << 16) | i
        return (str(ipaddress.IPv6Address((prefix << 64) | 0x1234)), "exim_v6",
                ipaddress.IPv6Address(prefix << 64))
    a = ipaddress.IPv4Address(BAN_V4_BASE + phase * (MAX_BANS + 1) + i + 1)
    return str(a), "exim_v4", a


def percentile(sorted_values, q):
    """Nearest rank; misses are +inf at the end."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def latency_phase(args, daemon, monitor, log, phase, name):
    """Bans `args.bans` fresh addresses one at a time and times each."""
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    addrs = [attacker(phase, i) for i in range(args.bans)]
    # maxretry - 1 hits each beforehand, committed before the timed lines.
    base = daemon.hits()
    os.write(fd, "".join(failure_line(a) + failure_line(a) for a, _, _ in addrs).encode())
    wait_until("the priming hits in the store", lambda: daemon.hits() >= base + 2 * args.bans, 30, daemon=daemon)
    time.sleep(0.15)
    rng = random.Random(args.seed * 31 + phase)
    lat, missed, order = [], [], []
    t_phase = time.monotonic()
    for address, set_name, key in addrs:
        # A random pause: the timed lines land at any phase of the daemon's
        # batch timer and of the background writer's ticks.
        time.sleep(args.pause_ms / 1000.0 * (0.5 + rng.random()))
        line = failure_line(address).encode()
        wall = time.time()
        t = time.monotonic_ns()
        os.write(fd, line)
        seen = monitor.wait(set_name, key, args.ban_timeout)
        if seen is None:
            missed.append(address)
            daemon.alive()
        else:
            lat.append((seen - t) / 1e6)
            order.append((lat[-1], len(order), address, wall, t))
    phase_secs = time.monotonic() - t_phase
    os.close(fd)
    wait_until("the timed hits in the store", lambda: daemon.hits() >= base + 3 * args.bans, 30, daemon=daemon)
    values = sorted(lat) + [math.inf] * len(missed)
    out = {"phase": name, "bans": args.bans, "seen": len(lat), "missed": len(missed),
           "missed_examples": missed[:5], "seconds": round(phase_secs, 2),
           "hits_added": daemon.hits() - base}
    for q, k in ((0.5, "p50_ms"), (0.9, "p90_ms"), (0.99, "p99_ms"), (1.0, "max_ms")):
        v = percentile(values, q)
        out[k] = None if v is None or v == math.inf else round(v, 3)
    out["slowest"] = [{"ms": round(v, 3), "index": i, "address": a,
                       "written_at": datetime.datetime.fromtimestamp(w).strftime("%H:%M:%S.%f")[:-3],
                       "written_monotonic_s": round(m / 1e9, 3)}
                      for v, i, a, w, m in sorted(order, reverse=True)[:5]]
    out["min_ms"] = round(min(lat), 3) if lat else None
    out["mean_ms"] = round(sum(lat) / len(lat), 3) if lat else None
    if not lat:
        raise Failure("%s: no ban of %d was seen in the kernel within %.1f s each; see %s"
                        % (name, args.bans, args.ban_timeout, daemon.stderr_path))
    return out


def start_background(args, log, bodies_path):
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--background-writer", log,
                          str(args.background_rate), bodies_path],
                         stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    if p.stdout.readline().strip() != "started":
        p.kill()
        raise Failure("the background writer did not start")
    return p


def stop_background(p):
    p.send_signal(signal.SIGTERM)
    try:
        out, _ = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        raise Failure("the background writer did not stop")
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise Failure("the background writer printed no figures (exit %s)" % p.returncode)


# --- the run -----------------------------------------------------------------------
def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    nft = subprocess.run(["nft", "--version"], capture_output=True, text=True).stdout.strip()
    return {"kernel": os.uname().release, "cpu": cpu, "cores": os.cpu_count(), "nftables": nft}


def run(args):
    sb = load_scan_bench()
    work = tempfile.mkdtemp(prefix="live-bench.", dir=args.tmpdir)
    daemon = monitor = background = None
    result = {"machine": machine(), "namespace": "own network namespace (unshare --net)",
              "firewall": "nftables (libnftnl), the real kernel sets"}
    try:
        # The log, then exim-banctl on it (which also leaves it in the page cache).
        source = os.path.join(work, "mainlog.generated")
        say("live-bench: generating %s lines (seed %d, %d jobs; timestamps: the %d s before now)"
            % (fmt_n(args.lines), args.seed, args.jobs, args.span))
        manifest = generate_log(sb, source, args, args.lines, args.span, args.attack_share, args.jobs)
        manifest.pop("hosts", None)
        bodies_path, n_bodies = background_bodies(sb, args, work)
        # The generated log's dirty pages go to disk now, not in the middle
        # of a measurement (the kernel writes them back after 30 s).
        say("live-bench: sync")
        t = time.monotonic()
        os.sync()
        sync_gen = time.monotonic() - t
        banctl = run_banctl(args, source, work, args.runs)
        if banctl["lines"] != args.lines:
            raise Failure("exim-banctl counted %d lines, the log has %d" % (banctl["lines"], args.lines))
        banctl["lines_per_s"] = banctl["lines"] / banctl["seconds"]

        # 1. sustained ingest from an empty start.
        followed = os.path.join(work, "mainlog")
        open(followed, "wb").close()
        daemon = Daemon(args.band, work, followed)
        load_before = os.getloadavg()[0]
        say("live-bench: starting exim-band")
        daemon.start()
        age = local_now() - manifest["first_line_local"]
        say("live-bench: ingest: copying %s lines into the followed log (oldest line %d s old, findtime %d s)"
            % (fmt_n(args.lines), age, FINDTIME))
        ing = ingest(args, daemon, source, followed, banctl["matched"], args.lines)
        st = daemon.status()
        ing["oldest_line_age_s"] = age
        ing["rss_peak_mb"] = round(st["VmHWM"], 1)
        ing["rss_after_mb"] = round(st["VmRSS"], 1)
        ing["bans"] = daemon.bans()
        ing["kernel_elements"] = kernel_elements()
        ing["offline_ratio"] = ing["lines_per_s"] / banctl["lines_per_s"]
        banctl["lines_per_cpu_s"] = banctl["lines"] / banctl["cpu_seconds"]
        ing["offline_cpu_ratio"] = ing["lines_per_cpu_s"] / banctl["lines_per_cpu_s"]
        ing["loadavg_before"] = load_before
        result.update(log={k: manifest.get(k) for k in ("lines", "attack_lines", "attack_share", "attack_hosts",
                                                        "attacker_population", "corpus_groups", "seconds")},
                      exim_banctl=banctl, ingest=ing)
        result["log"]["span_s"] = args.span
        result["log"]["mb"] = round(os.path.getsize(source) / 1e6, 1)
        os.unlink(source)
        # Likewise the followed log's 1.4 GB (at 10,000,000 lines) before
        # the latency phases: its writeback would stall the store's fsyncs.
        say("live-bench: sync")
        t = time.monotonic()
        os.sync()
        result["sync_seconds"] = {"after_generation": round(sync_gen, 2),
                                  "after_ingest": round(time.monotonic() - t, 2)}

        # 2. append-to-ban latency, idle and under the background stream.
        monitor = Monitor(args.monitor, not args.no_fifo)
        say("live-bench: latency, idle: %d bans" % args.bans)
        idle = latency_phase(args, daemon, monitor, followed, 1, "idle")
        say("live-bench: latency under %s lines/s of ordinary lines: %d bans" % (fmt_n(args.background_rate), args.bans))
        background = start_background(args, followed, bodies_path)
        time.sleep(1.0)
        hits_before = daemon.hits()
        loaded = latency_phase(args, daemon, monitor, followed, 2, "background")
        bg = stop_background(background)
        background = None
        t_stop = time.monotonic()
        size = os.path.getsize(followed)
        wait_until("exim-band to catch up with the background stream", lambda: daemon.offset() >= size, 60,
                   daemon=daemon)
        bg["rate_asked"] = args.background_rate
        bg["lines_per_s"] = bg["lines"] / bg["seconds"]
        bg["catch_up_ms"] = round((time.monotonic() - t_stop) * 1000, 1)
        bg["stray_hits"] = daemon.hits() - hits_before - 3 * args.bans
        bg["bodies"] = n_bodies
        loaded["background"] = bg
        result["latency"] = {"monitor_realtime": monitor.realtime, "overruns": monitor.overruns,
                             "pause_ms": args.pause_ms, "timeout_s": args.ban_timeout,
                             "idle": idle, "background": loaded}

        # 3. RSS after the run, then a clean stop.
        st = daemon.status()
        result["rss_after_run_mb"] = round(st["VmRSS"], 1)
        result["rss_peak_mb"] = round(st["VmHWM"], 1)
        result["log_bytes_at_end"] = os.path.getsize(followed)
        log_text = daemon.log()
        levels = {}
        for m in re.finditer(r"^\S+ \S+ exim-band\[\d+\] (\w+): ", log_text, re.M):
            levels[m.group(1)] = levels.get(m.group(1), 0) + 1
        result["daemon_log"] = {"levels": levels, "ban_lines": log_text.count(": ban "),
                                "errors": levels.get("error", 0) + levels.get("critical", 0),
                                "warnings": levels.get("warning", 0) + levels.get("warn", 0),
                                "problems": [l for l in log_text.splitlines()
                                             if re.search(r"exim-band\[\d+\] (error|warn|warning|critical): ", l)][:10]}
        monitor.stop()
        monitor = None
        result["exit_on_sigterm"] = daemon.stop()
        if result["exit_on_sigterm"] != 0:
            raise Failure("exim-band exited with %d on SIGTERM:\n%s" % (result["exit_on_sigterm"], daemon.log()[-3000:]))
        daemon = None
    finally:
        if background is not None:
            background.kill()
            background.wait(timeout=10)
        if monitor is not None:
            monitor.stop()
        if daemon is not None:
            try:
                daemon.stop()
            except Failure:
                pass
        if args.keep:
            say("live-bench: kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    result["loadavg"] = os.getloadavg()[0]
    return result


def targets(r):
    ing, lat = r["ingest"], r["latency"]

    def p99ok(ph):
        return ph["p99_ms"] is not None and ph["p99_ms"] <= TARGET_P99_MS

    return {
        "ingest_lines_per_s": {"target": TARGET_INGEST_LPS, "value": round(ing["lines_per_s"]),
                               "pass": ing["lines_per_s"] >= TARGET_INGEST_LPS},
        "ingest_offline_share": {"target": TARGET_OFFLINE_SHARE, "value": round(ing["offline_ratio"], 3),
                                 "pass": ing["offline_ratio"] >= TARGET_OFFLINE_SHARE},
        "p99_idle_ms": {"target": TARGET_P99_MS, "value": lat["idle"]["p99_ms"], "pass": p99ok(lat["idle"])},
        "p99_background_ms": {"target": TARGET_P99_MS, "value": lat["background"]["p99_ms"],
                              "pass": p99ok(lat["background"])},
    }


def ms(v):
    return "%.2f" % v if v is not None else "miss"


def report(args, r):
    P = print
    m, log, ing, bc, lat = r["machine"], r["log"], r["ingest"], r["exim_banctl"], r["latency"]
    P("")
    P("live-bench: exim-band on a growing Exim mainlog, in a network namespace of its own, real nftables backend")
    P("  %s, %d cores, Linux %s, %s; load average %.1f before the ingest, %.1f at the end%s"
      % (m["cpu"], m["cores"], m["kernel"], m["nftables"], ing["loadavg_before"], r["loadavg"],
         " (other work on this machine skews the figures)" if max(ing["loadavg_before"], r["loadavg"]) > 1.5 else ""))
    P("  log            %s lines, %.1f MB; %s attack lines (%.2f%%) from %s addresses; timestamps: the %d s "
      "before generation, current local time" % (fmt_n(log["lines"]), log["mb"], fmt_n(log["attack_lines"]),
                                                  100 * log["attack_share"], fmt_n(log["attack_hosts"]), log["span_s"]))
    P("")
    P("1. sustained ingest, from an empty file (%d MiB whole-line writes from a page-cached copy)"
      % ing["write_size_mb"])
    P("  writer         %s lines in %.3f s (%s lines/s)" % (fmt_n(ing["lines"]), ing["writer_seconds"],
                                                          fmt_n(ing["writer_lines_per_s"])))
    P("  exim-band      %s lines in %.3f s: %s lines/s with hits persisted; %s hits, %s hits/s; %s bans "
      "(%s elements in the kernel)" % (fmt_n(ing["lines"]), ing["seconds"], fmt_n(ing["lines_per_s"]),
                                        fmt_n(ing["hits"]), fmt_n(ing["hits_per_s"]), fmt_n(ing["bans"]),
                                        fmt_n(ing["kernel_elements"])))
    P("                 of the %.3f s: %.3f s on a CPU (%s lines per CPU second), %.3f s runnable waiting for a "
      "CPU, %.3f s blocked;" % (ing["seconds"], ing["cpu_seconds"], fmt_n(ing["lines_per_cpu_s"]),
                                ing["runqueue_seconds"], ing["blocked_seconds"]))
    P("                 the machine meanwhile: %.1f CPU seconds busy (all processes), %.1f idle, %.1f stolen by the "
      "hypervisor" % (ing["machine_busy_cpu_seconds"], ing["machine_idle_cpu_seconds"], ing["machine_steal_seconds"]))
    P("                 %s store batches with hits; oldest line %d s old at the start; last offset committed "
      "at %.3f s" % (fmt_n(ing["batches_with_hits"]), ing["oldest_line_age_s"], ing["offset_committed_seconds"]))
    P("  exim-banctl    test on the same log: %s lines in %.3f s: %s lines/s, %s matched; %.3f s CPU "
      "(%s lines per CPU second); runs %s s, median reported"
      % (fmt_n(bc["lines"]), bc["seconds"], fmt_n(bc["lines_per_s"]), fmt_n(bc["matched"]), bc["cpu_seconds"],
         fmt_n(bc["lines_per_cpu_s"]), ", ".join("%.3f" % s for s in bc["runs"])))
    P("  ratio          exim-band / exim-banctl test = %.2f (per CPU second: %.2f)"
      % (ing["offline_ratio"], ing["offline_cpu_ratio"]))
    P("  exim-band RSS  peak (VmHWM) %.1f MB, after the ingest %.1f MB" % (ing["rss_peak_mb"], ing["rss_after_mb"]))
    P("  (sync before the ingest %.1f s and after it %.1f s: the logs' writeback kept out of the measurements)"
      % (r["sync_seconds"]["after_generation"], r["sync_seconds"]["after_ingest"]))
    P("")
    P("2. append-to-ban latency: write() of the maxretry-th line of a fresh address -> its element announced by "
      "nf_tables")
    P("   (live_bench_monitor on NFNLGRP_NFTABLES%s, CLOCK_MONOTONIC; pauses %.0f ms +-50%% between bans)"
      % (", SCHED_FIFO" if lat["monitor_realtime"] else "", lat["pause_ms"]))
    P("  %-26s %6s %6s %8s %8s %8s %8s %8s" % ("", "bans", "missed", "min", "p50", "p90", "p99", "max"))
    bg = lat["background"]["background"]
    for label, ph in (("idle", lat["idle"]), ("under %s lines/s" % fmt_n(bg["rate_asked"]), lat["background"])):
        P("  %-26s %6d %6d %8s %8s %8s %8s %8s  ms" % (label, ph["bans"], ph["missed"], ms(ph["min_ms"]),
                                                      ms(ph["p50_ms"]), ms(ph["p90_ms"]), ms(ph["p99_ms"]),
                                                      ms(ph["max_ms"])))
    for label, ph in (("idle", lat["idle"]), ("under load", lat["background"])):
        P("  slowest, %-10s %s%s" % (label, ", ".join("%.1f ms (#%d)" % (x["ms"], x["index"]) for x in ph["slowest"]),
                                    "; missed (> %g s): %s" % (lat["timeout_s"], ", ".join(ph["missed_examples"]))
                                    if ph["missed"] else ""))
    P("  background     %s lines in %.1f s = %s lines/s (%s asked) in %s writes; %d of them counted as hits; "
      "the offset committed reached the log's end %.0f ms after the writer stopped"
      % (fmt_n(bg["lines"]), bg["seconds"], fmt_n(bg["lines_per_s"]), fmt_n(bg["rate_asked"]), fmt_n(bg["writes"]),
         bg["stray_hits"], bg["catch_up_ms"]))
    if lat["overruns"]:
        P("  the monitor's socket overran %d times: announcements were lost" % lat["overruns"])
    P("")
    P("3. exim-band RSS after the run %.1f MB (peak %.1f MB); %s daemon log lines with errors, %s with warnings; "
      "exit %s on SIGTERM" % (r["rss_after_run_mb"], r["rss_peak_mb"], r["daemon_log"]["errors"],
                              r["daemon_log"]["warnings"], r["exit_on_sigterm"]))
    for line in r["daemon_log"]["problems"]:
        P("    %s" % line[:240])
    P("")
    P("  targets (DESIGN.md)")
    t = r["targets"]
    rows = [
        (">= %s lines/s ingest, hits persisted" % fmt_n(TARGET_INGEST_LPS), t["ingest_lines_per_s"]["pass"],
         "%s lines/s" % fmt_n(ing["lines_per_s"])),
        (">= 1/4 of exim-banctl test's rate", t["ingest_offline_share"]["pass"], "%.2f" % ing["offline_ratio"]),
        ("p99 append-to-ban <= %g ms, idle" % TARGET_P99_MS, t["p99_idle_ms"]["pass"],
         "%s ms" % ms(lat["idle"]["p99_ms"])),
        ("p99 append-to-ban <= %g ms, %s lines/s" % (TARGET_P99_MS, fmt_n(bg["rate_asked"])),
         t["p99_background_ms"]["pass"], "%s ms" % ms(lat["background"]["p99_ms"])),
    ]
    for label, ok, value in rows:
        P("    %-44s %-4s  %s" % (label, "PASS" if ok else "FAIL", value))


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "--background-writer":
        background_writer(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return 0
    ap = argparse.ArgumentParser(description="exim-band on a live Exim mainlog: sustained ingest and "
                                             "append-to-ban latency, in a network namespace of its own.")
    ap.add_argument("--lines", type=int, default=10_000_000, help="lines of the ingest log (default 10,000,000)")
    ap.add_argument("--bans", type=int, default=1000, help="timed bans per latency phase (default 1,000)")
    ap.add_argument("--background-rate", type=int, default=300_000,
                    help="ordinary lines/s written beside the second latency phase (default 300,000)")
    ap.add_argument("--build-dir", help="build directory (default build/): BUILD/daemon/exim-band, "
                    "BUILD/daemon/exim-banctl, BUILD/test/bench/live_bench_monitor")
    ap.add_argument("--band", help="exim-band binary (default from --build-dir)")
    ap.add_argument("--banctl", help="exim-banctl binary (default from --build-dir)")
    ap.add_argument("--monitor", help="live_bench_monitor binary (default from --build-dir)")
    ap.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    ap.add_argument("--span", type=int, default=240,
                    help="seconds of log time the ingest log covers, ending when it is generated (default 240; "
                         "the oldest line must still be inside findtime, %d s, when it is read)" % FINDTIME)
    ap.add_argument("--attack-share", type=float, default=0.075, help="share of attack lines (default 0.075)")
    ap.add_argument("--no-corpus", action="store_true", help="built-in attack shapes only (as scan-bench)")
    ap.add_argument("--jobs", type=int, default=min(8, os.cpu_count() or 1), help="generator processes")
    ap.add_argument("--runs", type=int, default=3, help="exim-banctl test runs, the median is reported (default 3)")
    ap.add_argument("--pause-ms", type=float, default=8.0,
                    help="mean pause before each timed ban line, +-50%% (default 8)")
    ap.add_argument("--ban-timeout", type=float, default=1.0,
                    help="seconds to wait for a ban's element before counting it missed (default 1)")
    ap.add_argument("--ingest-timeout", type=float, default=300.0, help="bound on the ingest (default 300 s)")
    ap.add_argument("--stall-timeout", type=float, default=30.0,
                    help="the ingest fails when the store's hits stop growing this long (default 30 s)")
    ap.add_argument("--no-fifo", action="store_true", help="run the monitor without SCHED_FIFO (chrt)")
    ap.add_argument("--perf-record", metavar="FILE",
                    help="profile exim-band during the ingest: perf record -e cpu-clock -g into FILE")
    ap.add_argument("--tmpdir", help="where the temporary directory goes (default $TMPDIR or /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    ap.add_argument("--inside-netns", help=argparse.SUPPRESS)
    args = ap.parse_args()

    build = args.build_dir or os.path.join(REPO, "build")
    args.band = os.path.abspath(args.band or os.path.join(build, "daemon", "exim-band"))
    args.banctl = os.path.abspath(args.banctl or os.path.join(build, "daemon", "exim-banctl"))
    args.monitor = os.path.abspath(args.monitor or os.path.join(build, "test", "bench", "live_bench_monitor"))
    if args.lines < 1 or not 1 <= args.bans <= MAX_BANS or args.background_rate < 1 or args.runs < 1:
        ap.error("--lines, --runs and --background-rate must be positive, --bans between 1 and %d" % MAX_BANS)
    if not 10 <= args.span < FINDTIME:
        ap.error("--span must be between 10 and %d s" % (FINDTIME - 1))

    if args.inside_netns is None:
        # Checks before the namespace, then the run again inside one.
        problems = []
        if os.geteuid() != 0:
            problems.append("needs root (a network namespace, nf_tables)")
        for tool in ("unshare", "nft"):
            if not shutil.which(tool):
                problems.append("%s is not installed" % tool)
        for b in (args.band, args.banctl, args.monitor):
            if not (os.path.isfile(b) and os.access(b, os.X_OK)):
                problems.append("%s not found (build it, or give --build-dir)" % b)
        if args.perf_record and not shutil.which("perf"):
            problems.append("perf is not installed")
        if problems:
            say("live-bench: FAILED: " + "; ".join(problems))
            return 1
        outer = os.readlink("/proc/self/ns/net")
        argv = [a for a in sys.argv[1:]]
        os.execvp("unshare", ["unshare", "--net", "--", sys.executable, os.path.abspath(__file__),
                              "--inside-netns", outer] + argv)
    if os.readlink("/proc/self/ns/net") == args.inside_netns:
        say("live-bench: FAILED: not in a network namespace of its own; refusing to touch the host's ruleset")
        return 1

    try:
        r = run(args)
    except Failure as ex:
        say("live-bench: FAILED: %s" % ex)
        return 1
    except subprocess.TimeoutExpired as ex:
        say("live-bench: FAILED: %s" % ex)
        return 1
    r["targets"] = targets(r)
    if args.json:
        json.dump(r, sys.stdout, indent=1)
        print()
    else:
        report(args, r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
