#!/usr/bin/env python3
"""address-flood-test.py BAND BANCTL MONITOR -- a flood of distinct addresses
against the real exim-band with the nftables backend, in a network
namespace of its own (needs root, else exit 77).

5,000,000 attack lines of the shipped exim filter (mode normal, five
shapes) from 2,000,000 distinct addresses (one in eight IPv6, each in a /64
of its own), every address below maxretry, are appended to the mainlog as
fast as Python writes them, with max_tracked_keys far below 2,000,000.
Among them 50 real attackers each reach maxretry inside one chunk. Checked:

- memory: the daemon's peak RSS (VmHWM) stays under a bound made of what
  it holds at start, max_tracked_keys x the tracker's bytes a key
  (exim-ban.conf(5)), the store's lifetime counts waiting for their
  checkpoint (at most SqliteStore::checkpoint_keys keys) and the open
  batch; the printed figures show what each key really cost;
- every attacker's ban reaches the kernel while the flood is still being
  read, timed from the write() of its maxretry-th line to the element's
  netlink announcement (live_bench_monitor), and nothing else is banned;
- `exim-banctl status` and `stats` answer during the flood within a bound;
- afterwards every line was read, every hit is stored (hit_batches), and a
  fresh attacker is banned within milliseconds again."""

import ipaddress
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from command_line import run_netns_test  # noqa: E402
from failure import Failure  # noqa: E402
from say import sayer  # noqa: E402
from band_harness import Band, failure_line, wait_for  # noqa: E402
from flood_lines import SHAPES, FloodPlan  # noqa: E402
from nft_monitor import Monitor  # noqa: E402
from process_info import cpu_seconds, memory_kb  # noqa: E402

LINES = 5_000_000
ADDRESSES = 2_000_000
ATTACKERS = 50
MAXRETRY = 5
MAX_TRACKED_KEYS = 100_000
# The bound on memory: what the daemon holds at start, plus
TRACKER_BYTES_PER_KEY = 160        # exim-ban.conf(5) says about 150; track-bench measures 150-160
CHECKPOINT_KEYS = 50_000           # SqliteStore::checkpoint_keys: lifetime counts waiting
PENDING_BYTES_PER_KEY = 64         # their unordered_map node (40), malloc's header, a bucket
SLACK_KB = 16 * 1024               # the open batch (20,000 lines), SQLite's page caches, malloc
# exim-banctl status/stats during the flood, process start included. The
# store's checkpoint of 50,000 keys' lifetime counts runs inside a commit
# and holds the loop for about 0.3 s (more on a busy 2-core machine).
CONTROL_BOUND_S = 2.0
AFTER_BOUND_MS = 100               # a fresh attacker once the flood is read
READ_TIMEOUT_S = 240               # on a machine busy with other work; about 60 s when idle


def element_of(address):
    """The set element that bans `address`: itself, or its /64's first address."""
    ip = ipaddress.ip_address(address)
    return address if ip.version == 4 else str(ipaddress.IPv6Network((ip, 64), strict=False).network_address)


say = sayer("address-flood")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


class Probe(threading.Thread):
    """exim-banctl status and stats, one after the other, and the daemon's
    memory, until stopped: each answer timed."""

    def __init__(self, test):
        super().__init__(daemon=True)
        self.test = test
        self.stopping = threading.Event()
        self.times = {"status": [], "stats": []}
        self.failures = []
        self.rss_max_kb = 0

    def run(self):
        while not self.stopping.is_set():
            for cmd in ("status", "stats"):
                started = time.monotonic()
                code, out, err = self.test.banctl(cmd, "--json")
                took = time.monotonic() - started
                if code != 0 or json.loads(out or "{}").get("ok") is not True:
                    self.failures.append("%s: %d %s" % (cmd, code, err.strip()))
                self.times[cmd].append(took)
                self.rss_max_kb = max(self.rss_max_kb, memory_kb(self.test.band.process.pid)["VmRSS"])

    def stop(self):
        self.stopping.set()
        self.join(timeout=40)


class Test:
    def __init__(self, band_binary, banctl, monitor_binary, tmp):
        self.banctl_binary = banctl
        self.tmp = tmp
        self.log_path = os.path.join(tmp, "mainlog")
        open(self.log_path, "w").close()
        self.band = Band(band_binary, tmp, [self.log_path], jail_extra="max_tracked_keys = %d\n" % MAX_TRACKED_KEYS)
        # The .local file overrides the jail's maxretry (3): the flood's
        # 2 or 3 lines an address stay below it.
        with open(os.path.join(tmp, "exim-ban.local"), "w") as f:
            f.write("[exim]\nmaxretry = %d\n" % MAXRETRY)
        self.monitor = None
        self.monitor_binary = monitor_binary
        self.figures = {}

    def close(self):
        if self.monitor is not None:
            self.monitor.stop()
        if self.band.process is not None:
            self.band.stop()

    def summary(self):
        problems = [line for line in self.band.log().splitlines() if " error" in line or " warn" in line] \
            if os.path.exists(self.band.stderr_path) else []
        return "; ".join(["%s %s" % item for item in self.figures.items()] + problems[-5:])

    def banctl(self, *args):
        run = subprocess.run([self.banctl_binary, *args, "--config", self.band.config],
                             capture_output=True, text=True, timeout=30)
        return run.returncode, run.stdout, run.stderr

    def banctl_json(self, *args):
        code, out, err = self.banctl(*args, "--json")
        if code != 0:
            raise Failure("exim-banctl %s --json exited %d: %s" % (" ".join(args), code, err))
        return json.loads(out)

    def check_shapes(self):
        """Every line shape is one hit of its address (exim-banctl test)."""
        path = os.path.join(self.tmp, "shapes")
        with open(path, "w") as f:
            for shape in SHAPES:
                f.write("2026-11-23 10:00:00 " + shape.format("192.0.2.1") + "\n")
        report = self.banctl_json("test", path, "exim")
        if report.get("hosts") != {"192.0.2.1": len(SHAPES)}:
            raise Failure("the flood's %d shapes are not as many hits for exim-banctl test: %r"
                          % (len(SHAPES), report.get("hosts")))

    def run(self):
        plan = FloodPlan(LINES, ADDRESSES, ATTACKERS, MAXRETRY)
        self.check_shapes()
        self.monitor = Monitor(self.monitor_binary)
        self.band.start(dry_run=False)
        pid = self.band.process.pid
        base_kb = memory_kb(pid)["VmHWM"]
        cpu_before = cpu_seconds(pid)
        bound_kb = base_kb + (MAX_TRACKED_KEYS * TRACKER_BYTES_PER_KEY
                              + CHECKPOINT_KEYS * PENDING_BYTES_PER_KEY) // 1024 + SLACK_KB

        probe = Probe(self)
        probe.start()
        written_at = {}
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND)
        started = time.monotonic()
        try:
            for n in range(plan.chunks):
                text, attacker = plan.chunk(n)
                data = text.encode()
                at = time.monotonic_ns()
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                if attacker is not None:
                    written_at[plan.attackers[attacker]] = at
        finally:
            os.close(fd)
        write_s = time.monotonic() - started
        try:
            wait_for("exim-band to read all %d lines" % LINES,
                     lambda: self.banctl_json("stats")["lines"] >= LINES or self.band.process.poll() is not None,
                     timeout=READ_TIMEOUT_S, interval=0.05)
            read_s = time.monotonic() - started
        finally:
            probe.stop()
        if self.band.process.poll() is not None:
            raise Failure("exim-band exited with %d during the flood" % self.band.process.returncode)
        wait_for("every hit in the store", lambda: self.band.hit_count() >= LINES, timeout=30, interval=0.05)
        memory = memory_kb(pid)
        cpu = cpu_seconds(pid) - cpu_before
        stats = self.banctl_json("stats")
        status = self.banctl_json("status")
        stored = self.band.hit_count()

        latencies = []
        missed = []
        read_end_ns = int((started + read_s) * 1e9)
        for address, at in written_at.items():
            seen = self.monitor.wait(element_of(address), 0, 0)
            if seen is None:
                missed.append(address)
            else:
                latencies.append((seen - at) / 1e9)
                if seen > read_end_ns:
                    missed.append(address + " (after the flood was read)")
        after_ms = self.ban_fresh_attacker()
        elements = self.kernel_keys()

        self.figures = {
            "lines": "%d (written in %.1f s, read in %.1f s: %d lines/s; %.1f CPU s, %d lines per CPU s)" % (
                stats["lines"], write_s, read_s, stats["lines"] / read_s, cpu, stats["lines"] / max(cpu, 0.01)),
            "hits stored": "%d of %d" % (stored, LINES),
            "lost": LINES - stored,
            "keys": "%d tracked, %d dropped" % (status["jails"][0]["tracked_keys"], status["jails"][0]["dropped_keys"]),
            "bans": "%d of %d attackers, p50 %.2f s, max %.2f s after their write" % (
                len(latencies), ATTACKERS, percentile(latencies, 0.5) if latencies else 0,
                max(latencies) if latencies else 0),
            "fresh ban after": "%.2f ms" % after_ms,
            "status": "p50 %.0f ms, max %.0f ms (%d)" % (
                percentile(probe.times["status"], 0.5) * 1000, max(probe.times["status"]) * 1000,
                len(probe.times["status"])),
            "stats": "p50 %.0f ms, max %.0f ms (%d)" % (
                percentile(probe.times["stats"], 0.5) * 1000, max(probe.times["stats"]) * 1000,
                len(probe.times["stats"])),
            "RSS": "start %.1f MB, peak %.1f MB, end %.1f MB; bound %.1f MB = start + %d keys x %d B"
                   " + %d waiting counts x %d B + %d MB" % (
                       base_kb / 1024, memory["VmHWM"] / 1024, memory["VmRSS"] / 1024, bound_kb / 1024,
                       MAX_TRACKED_KEYS, TRACKER_BYTES_PER_KEY, CHECKPOINT_KEYS, PENDING_BYTES_PER_KEY,
                       SLACK_KB // 1024),
            "database": "%.0f MB" % (sum(os.path.getsize(os.path.join(self.tmp, f)) for f in os.listdir(self.tmp)
                                        if f.startswith("state.db")) / 1e6),
        }
        for name, value in self.figures.items():
            say("%s: %s" % (name, value))

        if stats["lines"] != LINES:
            raise Failure("stats counts %d lines, %d were written" % (stats["lines"], LINES))
        if stats["hits"] != LINES or stored != LINES:
            raise Failure("%d hit lines: stats counts %d hits, the store holds %d" % (LINES, stats["hits"], stored))
        if missed:
            raise Failure("attackers' bans not in the kernel during the flood: %s" % missed[:5])
        want = {element_of(a) for a in plan.attackers + [self.fresh]}
        if elements != want:
            raise Failure("the kernel holds %d elements, not the %d attackers: extra %s, missing %s" % (
                len(elements), len(want), sorted(elements - want)[:5], sorted(want - elements)[:5]))
        if probe.failures:
            raise Failure("exim-banctl during the flood: %s" % probe.failures[:3])
        for cmd, times in probe.times.items():
            if not times or max(times) > CONTROL_BOUND_S:
                raise Failure("exim-banctl %s during the flood: %s s (bound %.1f s)"
                              % (cmd, ["%.2f" % t for t in sorted(times)[-3:]], CONTROL_BOUND_S))
        if max(memory["VmHWM"], probe.rss_max_kb) > bound_kb:
            raise Failure("peak RSS %.1f MB over the bound %.1f MB" % (memory["VmHWM"] / 1024, bound_kb / 1024))
        if after_ms > AFTER_BOUND_MS:
            raise Failure("a fresh attacker after the flood took %.1f ms (bound %d ms)" % (after_ms, AFTER_BOUND_MS))

    def ban_fresh_attacker(self):
        """ms from the write() of maxretry lines of a new address to its element."""
        self.fresh = "192.0.2.99"
        lines = (failure_line(self.fresh) * MAXRETRY).encode()
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND)
        try:
            took = self.monitor.time_ban(self.fresh, lambda: os.write(fd, lines))
        finally:
            os.close(fd)
        if took is None:
            raise Failure("no ban of %s within 10 s after the flood" % self.fresh)
        return took

    @staticmethod
    def kernel_keys():
        """Every element of the jail's sets, as nft lists them."""
        keys = set()
        for name in ("exim_v4", "exim_v6"):
            out = subprocess.run(["nft", "-j", "list", "set", "inet", "exim_ban", name],
                                 capture_output=True, text=True, timeout=30, check=True).stdout
            for item in json.loads(out)["nftables"]:
                for entry in item.get("set", {}).get("elem", []):
                    keys.add(entry.get("elem", {}).get("val"))
        return keys


def main():
    return run_netns_test(Test, 4, __doc__, "exim-band-flood-", say)


if __name__ == "__main__":
    sys.exit(main())
