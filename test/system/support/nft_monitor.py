"""live_bench_monitor from Python, for the system tests that time a ban from
outside the daemon: each new element of table exim_ban, as nf_tables
announces it, with the CLOCK_MONOTONIC time it was read (Python's
time.monotonic_ns())."""

import subprocess
import threading
import time

from test_run import stop_process


class MonitorEnded(Exception):
    """The monitor did not start, or stopped while a test waited on it."""


class Monitor:
    """live_bench_monitor: nf_tables' new-element announcements, timestamped
    with CLOCK_MONOTONIC (the follower's clock)."""

    def __init__(self, path):
        argv = [path]
        if rt_allowed():
            argv = ["chrt", "-f", "50", path]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = self.process.stdout.readline().decode(errors="replace").strip()
        if first != "ready":
            raise MonitorEnded("live_bench_monitor did not start: %r %s" % (first, self.process.stderr.read()[-2000:]))
        self.realtime = argv[0] == "chrt"
        self.cond = threading.Condition()
        self.seen = {}          # key -> [mono ns, ...]
        self.overruns = 0
        self.real_minus_mono = None
        self.error = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.process.stdout:
            parts = raw.decode(errors="replace").split()
            with self.cond:
                if parts == ["overrun"]:
                    self.overruns += 1
                elif len(parts) == 5 and parts[2] == "exim_ban":
                    self.seen.setdefault(parts[4], []).append(int(parts[0]))
                    self.real_minus_mono = int(parts[1]) - int(parts[0])
                self.cond.notify_all()
        with self.cond:
            self.error = "live_bench_monitor ended"
            self.cond.notify_all()

    def count(self, key):
        with self.cond:
            return len(self.seen.get(key, []))

    def wait(self, key, after_count, timeout):
        """The time of the key's announcement number after_count + 1."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.seen.get(key, [])) <= after_count:
                if self.error:
                    raise MonitorEnded(self.error)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)
            return self.seen[key][after_count]

    def time_ban(self, key, write, timeout=10):
        """Calls write() (which should make the daemon ban `key`) and returns
        the ms from just before it to the key's next announcement, or None
        when none comes within `timeout` s."""
        before = self.count(key)
        started = time.monotonic_ns()
        write()
        seen = self.wait(key, before, timeout)
        return None if seen is None else (seen - started) / 1e6

    def stop(self):
        stop_process(self.process)


def rt_allowed():
    try:
        return subprocess.run(["chrt", "-f", "50", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
