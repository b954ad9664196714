"""A systemd-journald of a test's own, outside a booted system: the script
re-runs itself in a mount namespace of its own (`unshare --mount`), with
tmpfs over /var/log and /run/systemd, and starts journald for a journal
namespace there (`systemd-journald NAMESPACE`, as systemd-journald@.service
runs it). Entries are sent over its native socket, any bytes in any field;
readers open its directory (sd_journal_open_directory, exim-band's
--journal-directory, journalctl -D). Nothing of the host's journal is
touched, and the namespace dies with the script."""

import glob
import os
import signal
import socket
import struct
import subprocess
import time

import own_netns

MARKER = "EXIM_BAN_OWN_MOUNTS"
JOURNALD = "/usr/lib/systemd/systemd-journald"
NAMESPACE = "eximbantest"


def enter():
    """In the mount namespace (the tmpfs mounted): returns None. Otherwise
    re-executes the script under `unshare --mount` (does not return), or
    returns 77, the skip status, when journald or a machine id is missing
    or it cannot unshare."""
    if not os.access(JOURNALD, os.X_OK):
        print("SKIP: needs %s (package systemd)" % JOURNALD)
        return 77
    if not os.path.exists("/etc/machine-id") or os.path.getsize("/etc/machine-id") < 32:
        print("SKIP: needs /etc/machine-id (journald names its directory by it)")
        return 77
    rerun = own_netns.rerun_unshared("--mount", MARKER, "a mount namespace and a journald of its own")
    if rerun is not True:
        return rerun
    subprocess.run(["mount", "--make-rprivate", "/"], check=True, timeout=10)
    for target in ("/var/log", "/run/systemd"):
        subprocess.run(["mount", "-t", "tmpfs", "tmpfs", target], check=True, timeout=10)
    os.mkdir("/var/log/journal")
    return None


class Journald:
    """journald for NAMESPACE, inside enter()'s mount namespace."""

    def __init__(self, log_path):
        with open("/etc/machine-id") as f:
            machine = f.read().strip()
        self.directory = "/var/log/journal/%s.%s" % (machine, NAMESPACE)
        self.socket_path = "/run/systemd/journal.%s/socket" % NAMESPACE
        self.log = open(log_path, "a")
        self.process = subprocess.Popen([JOURNALD, NAMESPACE], stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 20
        while not (os.path.exists(self.socket_path) and glob.glob(self.directory + "/*.journal")):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("systemd-journald %s did not start (see %s)" % (NAMESPACE, log_path))
            time.sleep(0.01)
        self.sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sender.connect(self.socket_path)

    def send(self, **fields):
        """One entry. A value is str or bytes; any bytes, newlines included,
        go in the native protocol's binary form."""
        datagram = b""
        for name, value in fields.items():
            data = value.encode() if isinstance(value, str) else value
            datagram += name.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"
        self.sender.send(datagram)

    def count(self, match):
        """How many entries of `match` (FIELD=VALUE) the directory holds now."""
        result = subprocess.run(["journalctl", "-D", self.directory, "-o", "cat", "--no-pager", match],
                                capture_output=True, timeout=30)
        return len(result.stdout.splitlines())

    def sync(self):
        """Returns once journald has written every entry sent so far: it
        takes datagrams in order, so a marker sent last is written last."""
        self.syncs = getattr(self, "syncs", 0) + 1
        self.send(MESSAGE="sync", EXIM_BAN_SYNC=str(self.syncs))
        deadline = time.monotonic() + 20
        while self.count("EXIM_BAN_SYNC=%d" % self.syncs) < 1:
            if time.monotonic() > deadline:
                raise RuntimeError("journald did not write a sent entry")
            time.sleep(0.01)

    def rotate_and_vacuum(self):
        """Starts new files (SIGUSR2, as `journalctl --rotate`), then
        deletes the archived ones, as a vacuum deletes the oldest: every
        entry sent so far is gone."""
        self.sync()  # journald may serve the signal before queued entries
        before = set(glob.glob(self.directory + "/*@*.journal"))
        self.process.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + 20
        while True:
            archived = set(glob.glob(self.directory + "/*@*.journal")) - before
            if archived:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("journald did not rotate on SIGUSR2")
            time.sleep(0.01)
        for path in archived | before:
            os.remove(path)

    def stop(self):
        self.sender.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        finally:
            self.log.close()
