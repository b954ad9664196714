"""The booted machine's systemd journal, from inside the machine: lines
written as Exim writes them (syslog(3): identifier exim, facility mail, the
pid), the entries of exim-band's journalmatch read back as the lines its
journal source hands on, and journald's rotation and vacuuming."""

import datetime
import glob
import json
import os
import subprocess
import syslog
import time

from band_harness import FILTERS, GroundTruthLog, failure_line
from failure import Failure

IDENTIFIER = "exim"
MATCH = "SYSLOG_IDENTIFIER=" + IDENTIFIER
# A jail on the journal: its logpath and what else it needs.
LOGPATH = "journal"
JAIL_SETTINGS = "journalmatch = %s\n" % MATCH


def journalctl(*args, timeout=60):
    """journalctl ARGS (no pager); its output (stdout then stderr: vacuuming
    reports on stderr). A non-zero exit raises Failure."""
    result = subprocess.run(["journalctl", "--no-pager", *args], capture_output=True, text=True,
                            timeout=timeout)
    if result.returncode != 0:
        raise Failure("journalctl %s exited %d: %s" % (" ".join(args), result.returncode, result.stderr))
    return result.stdout + result.stderr


def entries(match=MATCH):
    """The journal's entries of `match` (one FIELD=VALUE), oldest first, as
    dicts of journalctl's JSON, once journald has stored every line sent
    before the call."""
    journalctl("--sync")
    return [json.loads(line) for line in journalctl("--output=json", "--all", match).splitlines() if line]


def text(value):
    """A field's value: journalctl writes text that is not UTF-8 as a list
    of bytes."""
    return bytes(value).decode("latin-1") if isinstance(value, list) else value


def as_line(entry):
    """The entry as exim-band's journal source hands it on: an RFC 3339
    syslog line, `TIME HOST IDENTIFIER[PID]: MESSAGE`, TIME the entry's
    realtime in UTC to the microsecond."""
    microseconds = int(entry["__REALTIME_TIMESTAMP"])
    when = datetime.datetime.fromtimestamp(microseconds // 1000000, datetime.timezone.utc).replace(
        microsecond=microseconds % 1000000)
    pid = entry.get("SYSLOG_PID", entry.get("_PID"))
    tag = "%s[%s]" % (text(entry["SYSLOG_IDENTIFIER"]), text(pid)) if pid else text(entry["SYSLOG_IDENTIFIER"])
    return "%s %s %s: %s\n" % (when.isoformat(timespec="microseconds"), text(entry.get("_HOSTNAME", "localhost")),
                               tag, text(entry["MESSAGE"]))


def lines_parsed(banctl):
    """Whether `banctl test` reads a line of the journal source's form (the
    RFC 3339 syslog form: [S10] part 3 teaches the line parser) as the hit
    its message is."""
    entry = {"__REALTIME_TIMESTAMP": "%d" % (time.time() * 1000000), "_HOSTNAME": "mx1",
             "SYSLOG_IDENTIFIER": IDENTIFIER, "SYSLOG_PID": "4711",
             "MESSAGE": failure_line("192.0.2.1").rstrip("\n")}
    result = subprocess.run([banctl, "test", "--json", "--filters-dir", FILTERS, "-", "exim"],
                            input=as_line(entry), capture_output=True, text=True, timeout=60)
    return result.returncode == 0 and json.loads(result.stdout).get("hosts") == {"192.0.2.1": 1}


def write_lines(path, found):
    """Writes `found` (entries) to `path` as as_line() lines; returns path."""
    with open(path, "w") as f:
        f.writelines(as_line(entry) for entry in found)
    return path


def rotate():
    """journald closes its journal files (they become archived files) and
    starts new ones; returns once it has. Every line sent before the call
    is in the files closed: without --sync first, journald may serve the
    rotation before lines still queued on its syslog socket (seen in CI:
    entries meant for the vacuumed file landed in the new one)."""
    journalctl("--sync")
    journalctl("--rotate")


def vacuum(option):
    """journalctl --vacuum-files=N, --vacuum-time=SPAN, ...: `option`;
    returns the archived files deleted (their paths)."""
    return [line.split("archived journal ", 1)[1].split(" (", 1)[0]
            for line in journalctl(option).splitlines() if line.startswith("Deleted archived journal ")]


def archived_files():
    """The system journal's archived files, oldest first."""
    return sorted(glob.glob("/var/log/journal/*/system@*.journal"), key=os.path.getmtime)


class GroundTruthJournal(GroundTruthLog):
    """GroundTruthLog's lines, sent to the journal as Exim sends them
    (syslog(3)), not to a file; a rotation is journald's. The history the
    offline scan reads is the journal's own entries of MATCH, as the
    daemon's source hands them on."""

    path = LOGPATH
    jail_settings = JAIL_SETTINGS

    def __init__(self, directory):
        # Not GroundTruthLog's: that opens a mainlog.
        os.makedirs(directory, exist_ok=True)
        self.history = os.path.join(directory, "ground-truth.log")
        self.written = []
        self.lines = 0
        self.rotations = 0
        syslog.openlog(IDENTIFIER, syslog.LOG_PID, syslog.LOG_MAIL)

    def append(self, line):
        syslog.syslog(syslog.LOG_INFO, line.rstrip("\n"))

    def flush(self):
        pass  # syslog(3) sends each line at once

    def rotate_when_read(self, band):
        """A journal rotation leaves the entries where a reader finds them:
        no need to let `band` catch up first."""
        self.rotate()

    def rotate(self):
        rotate()
        self.rotations += 1

    def history_file(self):
        found = entries()
        if len(found) != self.lines:
            raise Failure("the journal holds %d entries of %s, %d were sent" % (len(found), MATCH, self.lines))
        return write_lines(self.history, found)
