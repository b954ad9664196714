"""exim-band as the run starts, stops and reads it."""

import os
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
SOURCE = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
from failure import Failure  # noqa: E402
from test_run import terminate  # noqa: E402
from plan import BANTIME, MAXRETRY  # noqa: E402


class Daemon:
    """exim-band with the real nftables backend, in this (the server's)
    network namespace, following Exim's mainlog."""

    def __init__(self, band, work, mainlog):
        self.band = band
        self.dir = os.path.join(work, "band")
        os.makedirs(self.dir, exist_ok=True)
        self.config = os.path.join(self.dir, "exim-ban.conf")
        self.database = os.path.join(self.dir, "state.db")
        self.log_path = os.path.join(self.dir, "exim-band.log")
        os.symlink(os.path.join(SOURCE, "filters"), os.path.join(self.dir, "filters.d"))
        with open(self.config, "w") as f:
            f.write("# written by test/system/exim-e2e/e2e.py\n"
                    "[DEFAULT]\n"
                    "ignoreip = 127.0.0.0/8 ::1\n"
                    "ignoreself = true\n"
                    "bantime = %ds\n"
                    "findtime = 10m\n"
                    "database = %s\n"
                    "socket = %s\n"
                    "\n[exim]\nenabled = true\nlogpath = %s\nfilter = exim\nmaxretry = %d\n"
                    % (BANTIME, self.database, os.path.join(self.dir, "control.sock"), mainlog, MAXRETRY))
        self.process = None
        self.starts = 0
        self.db = None

    def start(self):
        assert self.process is None
        self.out = open(self.log_path, "ab")
        self.process = subprocess.Popen([self.band, "--foreground", "--config", self.config],
                                        stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.out)
        self.starts += 1
        deadline = time.monotonic() + 30
        while self.log().count(" started: ") < self.starts:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.out.close()
                self.process = None
                raise Failure("exim-band exited with %d at start" % code)
            if time.monotonic() > deadline:
                raise Failure("exim-band did not log \"started:\" within 30 s")
            time.sleep(0.01)

    def alive(self):
        if self.process is None or self.process.poll() is not None:
            raise Failure("exim-band is not running (exit code %s)" % (self.process and self.process.returncode))

    def stop(self):
        """SIGTERM; must exit 0 within 20 s."""
        self.close_db()
        try:
            code = terminate(self.process, 20)
        finally:
            self.out.close()
            self.process = None
        if code != 0:
            raise Failure("exim-band exited with %d on SIGTERM" % code)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def close_db(self):
        if self.db is not None:
            self.db.close()
            self.db = None

    def query(self, sql):
        if self.db is None:
            self.db = sqlite3.connect("file:%s?mode=ro" % self.database, uri=True, timeout=10)
        try:
            return self.db.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return None

    def stored_hits(self):
        rows = self.query("SELECT coalesce(sum(count), 0) FROM hit_batches")
        return rows[0][0] if rows else 0

    def stored_bans(self):
        rows = self.query("SELECT count(*) FROM bans")
        return rows[0][0] if rows else 0
