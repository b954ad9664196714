#!/usr/bin/env python3
"""list_under_load.py BAND BANCTL MONITOR -- control reads never stall bans:
the real exim-band with the nftables backend in a network namespace of its
own (the test re-runs itself under `unshare --net`; needs root, else exit
77), 100,000 active bans in the kernel (a store prepared with them before
the start; the start-up reconcile puts them in), then five concurrent
`exim-banctl list --json` that must each return all 100,000 bans, while a
fresh attacker's lines are appended to the log: its ban must be in the
kernel within 100 ms of the write (timed with live_bench_monitor), and each
list within 3 s (DESIGN.md). Prints each list's seconds and the ban
latency."""

import ipaddress
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from command_line import run_netns_test  # noqa: E402
from failure import Failure, check, checks_held  # noqa: E402
from say import sayer  # noqa: E402
from band_harness import Band, failure_line, wait_for  # noqa: E402
from nft_monitor import Monitor, MonitorEnded  # noqa: E402

BANS = 100_000
LISTERS = 5
ATTACKER = "198.51.100.77"
MAX_BAN_MS = 100     # the bound for a ban made while five lists run
MAX_LIST_S = 3.0     # DESIGN.md: a list of 100,000 active bans in <= 3 s

say = sayer("control-list-load")


def banned_address(n):
    return str(ipaddress.IPv4Address("10.0.0.1") + n)


class Test:
    def __init__(self, band_binary, banctl, monitor_binary, tmp):
        self.banctl_binary = banctl
        self.monitor_binary = monitor_binary
        self.log_path = os.path.join(tmp, "mainlog")
        open(self.log_path, "w").close()
        self.band = Band(band_binary, tmp, [self.log_path], jail_extra="bantime = 1d\n")
        self.monitor = None
        self.log = open(self.log_path, "a")
        self.notes = []  # the figures; run_test says them after a PASS

    def summary(self):
        return "%d checks" % checks_held()

    def close(self):
        if self.monitor is not None:
            self.monitor.stop()
        if self.band.process is not None:
            self.band.stop()
        self.log.close()

    def banctl(self, *args):
        return subprocess.Popen([self.banctl_binary, *args, "--config", self.band.config],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def banctl_json(self, *args):
        run = self.banctl(*args, "--json")
        out, err = run.communicate(timeout=60)
        check(run.returncode == 0, "exim-banctl %s --json exited %d: %s" % (" ".join(args), run.returncode, err))
        return json.loads(out)

    def prepare_store(self):
        """The daemon makes its database (a dry run, started and stopped),
        then 100,000 active bans are written into it as the daemon writes
        them, each key with a few lifetime hits."""
        self.band.start(dry_run=True)
        self.band.stop()
        now = int(time.time()) + time.localtime().tm_gmtoff  # log time: local time as if UTC
        with sqlite3.connect(self.band.database) as db:
            db.executemany("INSERT INTO bans(jail, key, start, expires, reason, origin) "
                           "VALUES('exim', ?, ?, ?, 'maxretry', 'log')",
                           ((banned_address(n), now - 60 + n % 60, now + 86400) for n in range(BANS)))
            db.executemany("INSERT INTO key_hits(key, jail, hits) VALUES(?, 'exim', 3)",
                           ((banned_address(n),) for n in range(BANS)))

    def kernel_elements(self):
        out = subprocess.run(["nft", "-j", "list", "set", "inet", "exim_ban", "exim_v4"],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        return sum(len(item.get("set", {}).get("elem", [])) for item in json.loads(out)["nftables"])

    def run(self):
        try:
            self.measure()
        except (Failure, MonitorEnded) as error:
            raise Failure("%s\nthe figures so far: %s\n--- exim-band's log (end) ---\n%s"
                          % (error, "; ".join(self.notes), self.band.log()[-4000:]))

    def measure(self):
        self.prepare_store()
        started = time.monotonic()
        self.band.start(dry_run=False)
        wait_for("the start-up reconcile", lambda: self.banctl_json("stats")["reconciles"] >= 1, timeout=120,
                 interval=0.2)
        in_kernel = self.kernel_elements()
        self.notes.append("%d bans in the kernel %.1f s after the start" % (in_kernel, time.monotonic() - started))
        check(in_kernel == BANS, "the kernel holds %d elements, not the store's %d bans" % (in_kernel, BANS))
        self.monitor = Monitor(self.monitor_binary)

        began = time.monotonic()
        alone = Lister(self.banctl("list", "--json"))
        alone_s = self.check_list(alone) - began
        # Printed against the target, not failed on: a loaded test machine
        # (the kernel's dump of 100,000 elements is most of it) says little.
        self.notes.append("one list alone: %.2f s (DESIGN.md's target: %.0f s)" % (alone_s, MAX_LIST_S))

        requests = self.banctl_json("stats")["control"]["requests"]
        listers = []
        for _ in range(LISTERS):
            listers.append((time.monotonic(), Lister(self.banctl("list", "--json"))))
        # Every list has reached the daemon (its requests counted) before
        # the attacker writes: the ban is made while they are served.
        wait_for("the five lists to reach the daemon",
                 lambda: self.banctl_json("stats")["control"]["requests"] >= requests + 1 + LISTERS,
                 timeout=30, interval=0.005)

        def write():
            os.write(self.log.fileno(), (failure_line(ATTACKER) * 3).encode())
        latency = self.monitor.time_ban(ATTACKER, write)
        written_at = time.monotonic()
        check(latency is not None, "no ban of %s reached the kernel within 10 s" % ATTACKER)

        seconds = []
        running_at_ban = 0
        for began, process in listers:
            ended = self.check_list(process)
            seconds.append(ended - began)
            running_at_ban += ended > written_at
        self.notes.append("ban latency while %d of %d lists ran: %.1f ms" % (running_at_ban, LISTERS, latency))
        # Each client parses and prints 15 MB of JSON: on a small machine
        # the five clients' own work is most of these seconds.
        self.notes.append("%d lists at once, seconds each: %s" % (LISTERS, ", ".join("%.2f" % s for s in seconds)))
        check(running_at_ban > 0, "every list had ended before the ban: nothing was measured")
        check(latency <= MAX_BAN_MS, "the ban took %.1f ms (bound %d ms) while lists ran" % (latency, MAX_BAN_MS))

    def check_list(self, lister):
        """Waits for an `exim-banctl list --json`, checks that it lists all
        the prepared bans as stored and in the kernel; returns when it ended."""
        process, out, err, ended = lister.result()
        check(process.returncode == 0, "exim-banctl list --json exited %d: %s" % (process.returncode, err))
        listed = json.loads(out)["bans"]
        keys = {ban["key"] for ban in listed}
        check(all(banned_address(n) in keys for n in range(BANS)),
              "a list lacks some of the %d bans (it has %d)" % (BANS, len(keys)))
        check(len(listed) in (BANS, BANS + 1), "a list has %d bans" % len(listed))
        sample = next(ban for ban in listed if ban["key"] == banned_address(7))
        check(sample["hits"] == 3 and sample["packets"] == 0 and sample["reason"] == "maxretry",
              "a listed ban reads %s" % sample)
        return ended


class Lister:
    """An `exim-banctl list --json` whose output is read as it comes, on a
    thread of its own: a client left unread blocks on its full pipe, and its
    end would then be when the test got round to it, not when it ended."""

    def __init__(self, process):
        self.process = process
        self.out = self.err = None
        self.ended = None
        self.thread = threading.Thread(target=self.drain, daemon=True)
        self.thread.start()

    def drain(self):
        self.out, self.err = self.process.communicate(timeout=120)
        self.ended = time.monotonic()

    def result(self):
        self.thread.join(timeout=130)
        check(self.ended is not None, "exim-banctl list --json did not end within 120 s")
        return self.process, self.out, self.err, self.ended


def main():
    return run_netns_test(Test, 4, __doc__, "exim-band-list-load-", say)


if __name__ == "__main__":
    sys.exit(main())
