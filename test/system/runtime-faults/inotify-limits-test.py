#!/usr/bin/env python3
"""inotify-limits-test.py BAND -- exim-band (dry run) past inotify's per-user
limits, in a user namespace of the test's own (`unshare -U -r`), whose
/proc/sys/user/max_inotify_watches and max_inotify_instances its root may
set (kernel/ucount.c); the host's limits are never touched.

(a) max_inotify_watches = 1: the log's directory is watched, the open file
    cannot be. The daemon says so once, naming fs.inotify.max_user_watches,
    and polls the file: every hit is counted (through a rotation too) and
    each attacker is banned within the poll bound. Then the limit is raised
    from outside (nsenter) and the daemon watches the file with inotify
    again, as its log says.
(b) max_inotify_instances = 0 at start: the daemon starts all the same,
    names fs.inotify.max_user_instances, polls, bans; once the limit is
    raised it gets its instance and its watches.

Needs root (for the user namespace and nsenter), else exit 77."""

import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from command_line import start  # noqa: E402
from failure import Failure  # noqa: E402
from say import sayer  # noqa: E402
from band_harness import Band, benign_line, compare_hits, failure_line, key_of, wait_for  # noqa: E402

# tail/watch_limit.hpp: watch_limit_poll_interval.
POLL_MS = 250
# A ban may take the poll interval, then a batch and a commit; the rest is
# room for a loaded machine (CI runs two tests at once on two cores).
BAN_BOUND_S = POLL_MS / 1000 + 1.5
SYSCTL = "/proc/sys/user/max_inotify_%s"


say = sayer("inotify-limits-test")


def in_user_namespace(limit, value):
    """A prefix that runs the daemon in a new user namespace whose inotify
    `limit` ("watches" or "instances") is `value`."""
    return ["unshare", "--user", "--map-root-user", "--", "sh", "-c",
            'echo %d > %s && exec "$0" "$@"' % (value, SYSCTL % limit)]


def set_limit(pid, limit, value):
    """Sets the limit of the user namespace of process `pid`, from outside."""
    subprocess.run(["nsenter", "--target", str(pid), "--user", "--", "sh", "-c",
                    "echo %d > %s" % (value, SYSCTL % limit)], check=True, timeout=10)


class Run:
    """One daemon on one log, in a user namespace with `limit` at `value`."""

    def __init__(self, band_binary, tmp, name, limit, value):
        self.dir = os.path.join(tmp, name)
        os.makedirs(os.path.join(self.dir, "log"))
        self.mainlog = os.path.join(self.dir, "log", "mainlog")
        # Only root is mapped in the namespace: the socket's group is root's.
        self.band = Band(band_binary, self.dir, [self.mainlog], extra="control_group = root\n")
        self.limit, self.value = limit, value
        self.written = []
        self.latencies = []
        self.next_attacker = 1
        self.name = name
        self.fd = None

    def write(self, text):
        # Kept open, as Exim's daemon keeps its log: a writer that closed
        # the file would wake the directory's watch (IN_CLOSE_WRITE) and
        # hide the missing watch of the file.
        if self.fd is None:
            self.fd = os.open(self.mainlog, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        os.write(self.fd, text.encode())

    def rotate(self):
        """Rename and create, as exicyclog does."""
        os.rename(self.mainlog, self.mainlog + ".01")
        os.close(self.fd)
        self.fd = None

    def attack(self):
        """One new attacker's three failures in one write; returns the
        seconds until its ban is in the store."""
        n = self.next_attacker
        self.next_attacker += 1
        address = "198.51.100.%d" % n if n % 3 else "2001:db8:%x::1" % n
        self.written += [address] * 3
        started = time.monotonic()
        self.write(failure_line(address) * 3 + benign_line(n))
        key = key_of(address)
        wait_for("the ban of %s" % address,
                 lambda: any(k == key for _j, k, _s, _d in self.band.bans()), timeout=10, interval=0.005)
        seconds = time.monotonic() - started
        self.latencies.append(seconds)
        return seconds

    def start(self):
        self.write(benign_line(0))
        self.band.start(prefix=in_user_namespace(self.limit, self.value))

    def check_counts(self):
        wait_for("%d hits" % len(self.written), lambda: self.band.hit_count() >= len(self.written))
        self.band.stop()
        problems = compare_hits(self.written, self.band.hits())
        if problems:
            raise Failure("%s: %s" % (self.name, "; ".join(problems)))

    def back_on_inotify(self, limit, value, what, attacks):
        """The inotify `limit` raised to `value` under the running daemon: it
        must say that it watches the log again (`what`); then `attacks`
        attacks, their ban times returned, and every hit counted."""
        set_limit(self.band.process.pid, limit, value)
        expect_in_log(self, "watched with inotify again; polling stopped", what)
        watched = [self.attack() for _ in range(attacks)]
        self.check_counts()
        return watched

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
        if self.band.process is not None:
            self.band.kill()


def expect_in_log(run, text, what):
    wait_for("the daemon's log to say %r (%s)" % (text, what), lambda: text in run.band.log(), timeout=10)


def watch_limit(band_binary, tmp):
    run = Run(band_binary, tmp, "watches", "watches", 1)
    try:
        run.start()
        expect_in_log(run, "fs.inotify.max_user_watches", "the watch limit is named")
        log = run.band.log()
        if "polling it every %d ms" % POLL_MS not in log:
            raise Failure("the daemon does not say that it polls the log:\n" + log[-2000:])
        polled = [run.attack() for _ in range(8)]
        # A rotation while polled: rename and create, as exicyclog does.
        run.rotate()
        polled += [run.attack() for _ in range(4)]
        if run.band.log().count("fs.inotify.max_user_watches") != 1:
            # Once, not at every poll nor for the file after the rotation.
            raise Failure("the watch limit is not logged once:\n" + run.band.log()[-3000:])
        if max(polled) > BAN_BOUND_S:
            raise Failure("a ban took %.2f s while polled (bound %.2f s)" % (max(polled), BAN_BOUND_S))

        watched = run.back_on_inotify("watches", 8192, "back on inotify", 8)
        return ("watch limit: %d hits, %d bans polled (max %.0f ms, bound %.0f ms), %d with inotify again "
                "(max %.0f ms), lost 0"
                % (len(run.written), len(polled), max(polled) * 1000, BAN_BOUND_S * 1000, len(watched),
                   max(watched) * 1000))
    except Failure:
        print(run.band.log()[-3000:])
        raise
    finally:
        run.close()


def instance_limit(band_binary, tmp):
    run = Run(band_binary, tmp, "instances", "instances", 0)
    try:
        run.start()
        expect_in_log(run, "fs.inotify.max_user_instances", "the instance limit is named")
        polled = [run.attack() for _ in range(5)]
        if max(polled) > BAN_BOUND_S:
            raise Failure("a ban took %.2f s without inotify (bound %.2f s)" % (max(polled), BAN_BOUND_S))
        watched = run.back_on_inotify("instances", 128, "an instance at last", 5)
        return ("instance limit: started, %d hits, %d bans polled (max %.0f ms), %d with inotify (max %.0f ms)"
                % (len(run.written), len(polled), max(polled) * 1000, len(watched), max(watched) * 1000))
    except Failure:
        print(run.band.log()[-3000:])
        raise
    finally:
        run.close()


def main():
    status = start(2, __doc__, say, root_for="for a user namespace and nsenter", tools=("nsenter",))
    if status is not None:
        return status
    probe = subprocess.run(in_user_namespace("watches", 1) + ["true"], capture_output=True, timeout=10)
    if probe.returncode != 0:
        say("SKIP: cannot set inotify limits in a user namespace: %s" % probe.stderr.decode().strip())
        return 77
    band_binary = os.path.abspath(sys.argv[1])
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="exim-band-inotify-") as tmp:
        try:
            watches = watch_limit(band_binary, tmp)
            instances = instance_limit(band_binary, tmp)
        except Failure as error:
            say("FAIL: %s" % error)
            return 1
    say("PASS in %.1f s: %s; %s" % (time.monotonic() - started, watches, instances))
    return 0


if __name__ == "__main__":
    sys.exit(main())
