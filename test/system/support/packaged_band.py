"""exim-band run the way the package runs it, for the system tests that check
what other programs (Exim as Debian-exim, rbldnsd as rbldns) can read of its
files. From systemd/exim-ban.service and debian/exim-ban.postinst:

  User=exim-ban, Group=adm (primary), UMask=0027, only CAP_NET_ADMIN
  (ambient), NoNewPrivileges; the state directory /var/lib/exim-ban is
  exim-ban:adm 0750; /run/exim-ban is exim-ban:adm 0755.

Here setpriv does what systemd does, in the calling network namespace. The
user exim-ban must resolve (netns-lib.sh's netns_package_users gives the
namespace one when the host has none). Directories stand in for
/var/lib/exim-ban and /run/exim-ban below a work directory."""

import grp
import json
import os
import pwd
import sqlite3
import subprocess
import time

from failure import Failure
from test_run import terminate

SOURCE = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
FILTERS = os.path.join(SOURCE, "filters")
USER, GROUP, UMASK = "exim-ban", "adm", 0o027


def mode_line(path):
    """'drwxr-x--- exim-ban adm PATH', as namei -l prints a component."""
    st = os.lstat(path)
    kind = "d" if os.path.isdir(path) else "-"
    bits = "".join(c if st.st_mode & (1 << (8 - i)) else "-" for i, c in enumerate("rwxrwxrwx"))
    try:
        user = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        user = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return "%s%s %s %s %s" % (kind, bits, user, group, path)


class PackagedBand:
    def __init__(self, band, banctl, work, logpaths, default_extra="", jail_extra=""):
        self.band = band
        self.banctl_path = banctl
        self.etc = os.path.join(work, "etc-exim-ban")          # /etc/exim-ban
        self.state = os.path.join(work, "var-lib-exim-ban")    # /var/lib/exim-ban
        self.run_dir = os.path.join(work, "run-exim-ban")      # /run/exim-ban
        self.database = os.path.join(self.state, "exim-ban.db")
        self.socket = os.path.join(self.run_dir, "control.sock")
        self.config = os.path.join(self.etc, "exim-ban.conf")
        self.log_path = os.path.join(work, "exim-band.log")
        user = pwd.getpwnam(USER)
        adm = grp.getgrnam(GROUP).gr_gid
        os.makedirs(self.etc)
        os.symlink(FILTERS, os.path.join(self.etc, "filters.d"))
        # debian/exim-ban.postinst: install -d -o exim-ban -g adm -m 0750
        os.mkdir(self.state)
        os.chown(self.state, user.pw_uid, adm)
        os.chmod(self.state, 0o750)
        # systemd/exim-ban.tmpfiles: d /run/exim-ban 0755 exim-ban adm
        os.mkdir(self.run_dir)
        os.chown(self.run_dir, user.pw_uid, adm)
        os.chmod(self.run_dir, 0o755)
        with open(self.config, "w") as f:
            f.write("# written by test/system/support/packaged_band.py\n"
                    "[DEFAULT]\n"
                    "ignoreip = 127.0.0.0/8 ::1\n"
                    "ignoreself = true\n"
                    "bantime = 1h\n"
                    "findtime = 10m\n"
                    "bantime.increment = false\n"
                    "database = %s\n"
                    "socket = %s\n"
                    "control_group = adm\n"
                    "%s\n"
                    "[exim]\nenabled = true\nlogpath = %s\nfilter = exim\nmaxretry = 3\n%s"
                    % (self.database, self.socket, default_extra, " ".join(logpaths), jail_extra))
        os.chmod(self.config, 0o644)
        self.process = None
        self.out = None
        self.starts = 0

    def argv(self):
        return ["setpriv", "--reuid=%s" % USER, "--regid=%s" % GROUP, "--init-groups",
                "--inh-caps=-all,+net_admin", "--ambient-caps=-all,+net_admin",
                "--bounding-set=-all,+net_admin", "--no-new-privs", "--",
                self.band, "--foreground", "--config", self.config]

    def start(self, timeout=30):
        assert self.process is None
        self.out = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=self.out,
                                        stderr=self.out, preexec_fn=lambda: os.umask(UMASK))
        self.starts += 1
        deadline = time.monotonic() + timeout
        while self.log().count(" started: ") < self.starts:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.out.close()
                self.process = None
                raise Failure("exim-band exited with %d at start:\n%s" % (code, self.log()[-3000:]))
            if time.monotonic() > deadline:
                raise Failure("exim-band did not log \"started:\" within %d s" % timeout)
            time.sleep(0.01)

    def alive(self):
        if self.process is None or self.process.poll() is not None:
            raise Failure("exim-band is not running (exit code %s):\n%s"
                              % (self.process and self.process.returncode, self.log()[-3000:]))

    def stop(self, timeout=20):
        """SIGTERM; it must exit 0."""
        if self.process is None:
            return
        try:
            code = terminate(self.process, timeout)
        finally:
            self.out.close()
            self.process = None
        if code != 0:
            raise Failure("exim-band exited with %d on SIGTERM:\n%s" % (code, self.log()[-3000:]))

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def banctl(self, *args, check=True, timeout=30, config=True):
        """exim-banctl ARGS [--config CONFIG]; config=False for the commands
        that talk to no daemon (nft-list)."""
        argv = [self.banctl_path, *args] + (["--config", self.config] if config else [])
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise Failure("exim-banctl %s exited %d: %s%s" % (" ".join(args), p.returncode,
                                                                  p.stdout[-1000:], p.stderr[-1000:]))
        return p

    def banctl_json(self, *args, config=True):
        out = self.banctl(*args, "--json", config=config).stdout
        try:
            return json.loads(out)
        except ValueError:
            raise Failure("exim-banctl %s --json printed no JSON: %r" % (" ".join(args), out[-1000:]))

    def stats(self):
        return self.banctl_json("stats")

    def query(self, sql, args=()):
        """Reads the database as root, read-only, with a connection of its
        own each time (never left open: the daemon's files are the point)."""
        db = sqlite3.connect("file:%s?mode=ro" % self.database, uri=True, timeout=10)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def counts(self, keys):
        rows = self.query("SELECT ip, count FROM blacklist WHERE ip IN (%s)" % ",".join("?" * len(keys)),
                          tuple(keys))
        return {k: dict(rows).get(k, 0) for k in keys}

    def stored_hits(self):
        try:
            return self.query("SELECT coalesce(sum(count), 0) FROM hit_batches")[0][0]
        except sqlite3.OperationalError:
            return 0

    def files(self):
        """The state directory and the database files, as namei -l shows them."""
        out = [mode_line(self.state)]
        for suffix in ("", "-wal", "-shm"):
            p = self.database + suffix
            out.append(mode_line(p) if os.path.exists(p) else "(absent)   %s" % p)
        return out
