"""A scratch machine for the system tests that need a booted systemd (a
unit's sandbox, journald): a copy-on-write clone of this machine's root file
system (overlayfs, the changes in a tmpfs) booted by systemd-nspawn with a
network of its own, from a mount, network and PID namespace of the test's
own, so nothing reaches the host's files, processes, journal or ruleset.

The clone shows this machine's files as they were when it was mounted: the
source and build trees (same paths), Exim, swaks, python3. A driver runs in
two halves:

  code = run_inside(args, timeout)   on the host: re-runs the driver
                                     (sys.argv[0]) as `DRIVER --inside ARGS`
                                     in the namespaces; returns its status
  with_machine(work, name, body, say) in the namespaces (the driver's
                                     --inside half): boots the clone in
                                     WORK, body(machine), powers it off and
                                     cleans up on every path

Machine.run() runs a command in the machine (nsenter into all its
namespaces, its root) and returns the CompletedProcess; Machine.stream()
runs one with its output passed through (a driver half that runs inside
the machine); Machine.journal() is journalctl in the machine."""

import os
import secrets
import shutil
import subprocess
import sys

from band_harness import wait_for
from failure import Failure

INSIDE = "--inside"
TOOLS = ("unshare", "systemd-nspawn", "nsenter", "pgrep", "mount")
# What keeps dpkg and services in the clone from behaving as on a real host:
# the man-db trigger would re-index every manual page of the machine, and a
# container image's policy-rc.d (exit 101) keeps maintainer scripts from
# starting or stopping services.
NEEDLESS = ("/var/lib/man-db/auto-update", "/usr/sbin/policy-rc.d")


def run(*command, timeout=120, check_code=True, **options):
    """subprocess.run with the output captured as text, bounded by `timeout`;
    with `check_code`, a non-zero exit raises Failure with the command and
    the ends of its output."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **options)
    if check_code and result.returncode != 0:
        raise Failure("%s exited %d:\n%s%s" % (" ".join(command), result.returncode,
                                                result.stdout[-3000:], result.stderr[-3000:]))
    return result


def run_inside(args, timeout):
    """Re-runs the driver as `DRIVER --inside ARGS` under unshare (a mount
    namespace with private propagation, a network namespace, a PID
    namespace with its own /proc); returns its exit status. Raises
    subprocess.TimeoutExpired after `timeout` s (unshare is killed, its
    child with it: the namespaces die with their first process, the
    machine with them)."""
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "--net", "--pid", "--fork",
                           "--kill-child", "--mount-proc", "--", sys.executable, os.path.abspath(sys.argv[0]),
                           INSIDE, *args], timeout=timeout).returncode


def inside_args():
    """The ARGS of `DRIVER --inside ARGS`, or None when the driver runs on
    the host."""
    if len(sys.argv) >= 2 and sys.argv[1] == INSIDE:
        return sys.argv[2:]
    return None


def missing_tools(more=()):
    """The tools of TOOLS and `more` that are not installed."""
    return [tool for tool in (*TOOLS, *more) if shutil.which(tool) is None]


class CgroupOfOurOwn:
    """systemd-nspawn --keep-unit puts the container in a "payload" cgroup
    below its own; a cgroup made for this test keeps that off the host's
    tree and is removed at the end. One per hierarchy systemd uses: the
    unified one and, on a hybrid host, name=systemd. `name` is made unique,
    so that tests can run at the same time."""

    def __init__(self, name):
        self.name = "exim-ban-%s-%s" % (name, secrets.token_hex(4))
        mounts = {}
        with open("/proc/self/mountinfo") as f:
            for line in f:
                fields = line.split()
                kind, options = fields[fields.index("-") + 1], fields[-1]
                if kind == "cgroup2":
                    mounts.setdefault("", fields[4])
                elif kind == "cgroup" and "name=systemd" in options.split(","):
                    mounts["name=systemd"] = fields[4]
        self.made = []
        with open("/proc/self/cgroup") as f:
            for line in f:
                _id, controllers, path = line.rstrip("\n").split(":", 2)
                if controllers in mounts:
                    parent = mounts[controllers] + path.rstrip("/")
                    os.makedirs(os.path.join(parent, self.name), exist_ok=True)
                    self.made.append(parent)
                    self._move(os.path.join(parent, self.name))

    @staticmethod
    def _move(cgroup):
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    def remove(self):
        for parent in self.made:
            self._move(parent)
            for directory, _subdirs, _files in sorted(os.walk(os.path.join(parent, self.name)), reverse=True):
                os.rmdir(directory)


class Machine:
    """The clone, booted: systemd as its PID 1 (basic.target: none of the
    host's own services start), journald with an empty journal, its own
    loopback only. `files` maps paths inside the machine to host files
    copied there before the boot. /tmp in the machine is its own tmpfs:
    host files it should see live elsewhere (the source and build trees,
    /var/tmp)."""

    def __init__(self, work, name, files=None):
        self.dir = os.path.join(work, "root")
        layers = os.path.join(work, "layers")
        for path in (self.dir, layers):
            os.makedirs(path, exist_ok=True)
        # nspawn keeps its locks in /run: this namespace's own.
        run("mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", "/run")
        run("mount", "-t", "tmpfs", "-o", "mode=0755", "exim-ban-" + name, layers)
        for layer in ("upper", "work"):
            os.mkdir(os.path.join(layers, layer))
        run("mount", "-t", "overlay", "overlay", "-o",
            "lowerdir=/,upperdir=%s/upper,workdir=%s/work" % (layers, layers), self.dir)
        for inside, source in (files or {}).items():
            os.makedirs(os.path.dirname(self.path(inside)), exist_ok=True)
            shutil.copy(source, self.path(inside))
        # The clone's journal starts empty: the host's journal files (the
        # same machine id) hidden, not touched.
        journal = self.path("/var/log/journal")
        for entry in os.listdir(journal) if os.path.isdir(journal) else ():
            shutil.rmtree(os.path.join(journal, entry))
        for needless in NEEDLESS:
            if os.path.exists(self.path(needless)):
                os.remove(self.path(needless))
        self.console = open(os.path.join(work, "console.log"), "w+")
        self.nspawn = subprocess.Popen(
            ["systemd-nspawn", "--quiet", "--directory", self.dir, "--machine", name, "--boot",
             "--register=no", "--keep-unit", "--link-journal=no", "--private-network",
             "--", "systemd.unit=basic.target"], stdin=subprocess.DEVNULL, stdout=self.console,
            stderr=subprocess.STDOUT)
        self.leader = wait_for("the container's systemd", self._leader, timeout=60, interval=0.1)
        self.state = wait_for("the container's boot", self._booted, timeout=120, interval=0.2)
        self.systemd = self.run("systemctl", "--version").stdout.splitlines()[0]

    def _leader(self):
        if self.nspawn.poll() is not None:
            self.console.seek(0)
            raise Failure("systemd-nspawn exited %d:\n%s" % (self.nspawn.returncode, self.console.read()[-3000:]))
        children = run("pgrep", "--parent", str(self.nspawn.pid), "--exact", "systemd", check_code=False)
        return children.stdout.strip()

    def _booted(self):
        state = self.run("systemctl", "is-system-running", check_code=False).stdout.strip()
        return state if state in ("running", "degraded") else None

    def path(self, inside):
        """The host's path of `inside`, a path in the machine."""
        return os.path.join(self.dir, inside.lstrip("/"))

    def enter(self, *command):
        """`command` prefixed so that it runs in the machine."""
        return ["nsenter", "--target", self.leader, "--all", *command]

    def run(self, *command, **options):
        """run() (above) of `command` in the machine."""
        return run(*self.enter(*command), **options)

    def stream(self, *command, timeout):
        """`command` in the machine, its output passed through; returns its
        exit status. Raises subprocess.TimeoutExpired after `timeout` s."""
        sys.stdout.flush()
        return subprocess.run(self.enter(*command), stdin=subprocess.DEVNULL, timeout=timeout).returncode

    def journal(self, *args):
        """journalctl ARGS in the machine (no pager): its output."""
        return self.run("journalctl", "--no-pager", *args, check_code=False).stdout

    def stop(self):
        self.run("systemctl", "poweroff", check_code=False)
        try:
            self.nspawn.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.nspawn.kill()
            self.nspawn.wait()
        self.console.close()


def with_machine(work, name, body, say, files=None):
    """Boots a Machine(work, name, files) under a cgroup of its own, says
    (with `say`) which systemd booted, and returns body(machine); powers the
    machine off and removes the cgroup on every path. On a Failure the end
    of the machine's journal is said before it propagates. Returns 77 (a
    skip) when no cgroup can be made for the container."""
    try:
        cgroup = CgroupOfOurOwn(name)
    except OSError as error:
        say("SKIP: cannot make a cgroup for the container: %s" % error)
        return 77
    machine = None
    try:
        machine = Machine(work, name, files)
        say("booted a copy-on-write clone of this machine under systemd-nspawn: %s, %s"
            % (machine.systemd, machine.state))
        return body(machine)
    except Failure:
        if machine is not None:
            say("the container's journal (end):\n" + machine.journal("-o", "short-monotonic", "-n", "60"))
        raise
    finally:
        if machine is not None:
            machine.stop()
        try:
            cgroup.remove()
        except OSError as error:
            say("cannot remove the test's cgroup: %s" % error)
