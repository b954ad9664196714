#!/usr/bin/env python3
"""store-faults-test.py BAND BANCTL disk-full|locked|corrupt -- the real
exim-band (dry-run firewall) against faults of its real SQLite database,
while attack lines keep coming. Each fault ends with the same exactness
check: every hit line written is in the store exactly once, and the bans
equal `exim-banctl test --bans` on the same log.

disk-full  (root) The database on a 16 MB tmpfs in a mount namespace of the
           test's own (nothing leaks to the host; it goes with the test's
           processes). The tmpfs is filled until the WAL has room for a
           few commits past SQLite's checkpoint threshold, so that the WAL
           checkpointer fails too, then for none. The daemon keeps running,
           logs the stall once, counts it (stats store_errors), stops
           reading; the filler removed, the backlog lands and the
           checkpointer works again.
locked     Another connection holds BEGIN EXCLUSIVE on the database for
           10 s: the same stall, and the backlog lands after the release
           (how long after is printed).
corrupt    Garbage bytes, a truncated file, a damaged page: exim-band exits
           1 with one line naming the file and --rebuild-db, leaving the
           file byte for byte; `--rebuild-db` moves it (with its WAL) aside
           to a timestamped name, logs where, and rebuilds hits and bans
           from the log; on an intact database --rebuild-db moves nothing;
           --check never opens the database."""

import hashlib
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from failure import Failure, check  # noqa: E402
from say import sayer  # noqa: E402
from band_harness import Band, GroundTruthLog, against_offline_scan, wait_for  # noqa: E402

STALL = "store: cannot commit"
RESUMED = "store: the batch is committed after"
CHECKPOINT_FAILED = "cannot checkpoint the WAL"
CHECKPOINT_BACK = "is checkpointed again"
PAGE = 4096
WAL_FRAME = 24 + PAGE  # SQLite's WAL: a 24-byte header before each page
CHECKPOINT_PAGES = 1000  # SqliteStore::wal_checkpoint_pages


say = sayer("store-faults-test")


class Run:
    """A band on an attack log; the checks every fault ends with."""

    def __init__(self, band_binary, banctl, workdir, database=None):
        self.banctl = banctl
        seed = int(time.time())
        say("seed %d" % seed)
        self.rng = random.Random(seed)
        self.step = 0
        self.attack = GroundTruthLog(os.path.join(workdir, "log"))
        self.band = Band(band_binary, workdir, [self.attack.path])
        if database:
            # exim-ban.local overrides exim-ban.conf, as on a real host.
            with open(os.path.join(workdir, "exim-ban.local"), "w") as f:
                f.write("[DEFAULT]\ndatabase = %s\n" % database)
            self.band.database = database

    def write(self, lines):
        """A chunk of the attack: each its own attackers (see
        band_harness.moving_attacker), so bans keep coming."""
        self.step += 1
        self.attack.write(self.rng, self.step, lines)

    def landed(self):
        stored = self.band.hit_count()
        return stored >= len(self.attack.written)

    def wait_landed(self, what, timeout=30):
        wait_for("%s: %d hits in the store" % (what, len(self.attack.written)), self.landed, timeout=timeout)

    def alive(self, what):
        if self.band.process.poll() is not None:
            raise Failure("exim-band exited with %d %s:\n%s"
                          % (self.band.process.returncode, what, self.band.log()[-3000:]))

    def stats(self):
        result = subprocess.run([self.banctl, "stats", "--json", "--config", self.band.config],
                                capture_output=True, text=True, timeout=20)
        if result.returncode != 0:
            raise Failure("exim-banctl stats: %s" % result.stderr)
        return json.loads(result.stdout)

    def check_exact(self):
        """Stops nothing; returns the figures. Raises Failure on a hit lost
        or doubled, or bans other than the offline scan's."""
        stored, want_bans, got_bans, problems = against_offline_scan(self.band, self.attack, self.banctl)
        if not want_bans:
            problems.append("the log made no ban: the test proves nothing")
        if problems:
            raise Failure("; ".join(problems))
        return "%d lines, %d hits, stored %d (lost 0, doubled 0), bans %d = offline %d" % (
            self.attack.lines, len(self.attack.written), len(stored), len(got_bans), len(want_bans))

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        if kind is Failure and os.path.exists(self.band.stderr_path):
            say("exim-band's log ends:\n" + self.band.log()[-3000:])
        self.close()

    def close(self):
        if self.band.process is not None:
            self.band.process.kill()
            self.band.process.wait()
            self.band.stderr.close()
            self.band.process = None
        self.attack.handle.close()
        self.attack.truth.close()


def count_in_log(band, text):
    return band.log().count(text)


# ----- disk full --------------------------------------------------------------

def wal_frames(database):
    try:
        return max(0, (os.path.getsize(database + "-wal") - 32) // WAL_FRAME)
    except FileNotFoundError:
        return 0


def free_bytes(directory):
    stat = os.statvfs(directory)
    return stat.f_bavail * stat.f_frsize


def fill(directory, leave):
    """A filler file taking all but `leave` bytes of the file system."""
    path = os.path.join(directory, "filler")
    with open(path, "wb") as f:
        for block in (1 << 20, PAGE):
            while free_bytes(directory) - block >= leave:
                try:
                    f.write(b"\0" * block)
                    f.flush()
                except OSError:
                    break
    return path


def enter_mount_namespace():
    """Runs this test again in a mount namespace of its own (unless it is
    there already): the tmpfs goes with the test's processes, however they
    end. Returns 77 when that cannot be done."""
    if os.environ.get("STORE_FAULTS_NAMESPACE") == "1":
        return None
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        say("SKIP: disk-full needs root and unshare(1) for a mount namespace")
        return 77
    os.environ["STORE_FAULTS_NAMESPACE"] = "1"
    os.execvp("unshare", ["unshare", "--mount", "--propagation", "private", sys.executable,
                          os.path.abspath(__file__), *sys.argv[1:]])


def disk_full(band_binary, banctl, tmp):
    state = os.path.join(tmp, "state")
    os.mkdir(state)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", state],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        say("SKIP: cannot mount a tmpfs: %s" % mounted.stderr.strip())
        return 77
    try:
        with Run(band_binary, banctl, tmp, database=os.path.join(state, "exim-ban.db")) as run:
            return disk_full_run(run, state)
    finally:
        subprocess.run(["umount", "--lazy", state], capture_output=True)


def disk_full_run(run, state):
    band, database = run.band, run.band.database
    started = time.monotonic()
    band.start()
    run.write(20000)
    run.wait_landed("before the disk fills")
    frames = wal_frames(database)
    check(frames < CHECKPOINT_PAGES - 200, "the WAL holds %d frames already; the test needs it below %d"
          % (frames, CHECKPOINT_PAGES - 200))
    # Room for the WAL to pass the checkpoint threshold by a few commits, far
    # from what the checkpoint needs (the database file grows by every page).
    room = (CHECKPOINT_PAGES - frames + 40) * WAL_FRAME
    filler = fill(state, room)
    filler_mb = os.path.getsize(filler) / 1e6
    # Small chunks, each committed before the next, so that the commit that
    # crosses the threshold fits; then the WAL runs out of room.
    chunks = 0
    while count_in_log(band, STALL) == 0:
        run.alive("while the disk filled")
        run.write(300)
        chunks += 1
        check(chunks < 2000, "the disk never filled up (WAL %d frames)" % wal_frames(database))
        wait_for("a commit or the stall", lambda: run.landed() or count_in_log(band, STALL) > 0)
    wait_for("the WAL checkpointer to fail on the full disk", lambda: count_in_log(band, CHECKPOINT_FAILED) > 0)
    stalled_at = band.hit_count()
    # Attack lines keep coming while the store cannot take them.
    for _ in range(10):
        run.write(2000)
    wait_for("commits retried", lambda: run.stats()["store_errors"] >= 3, timeout=20)
    run.alive("on the full disk")
    check(band.hit_count() == stalled_at, "hits landed while the disk was full")
    errors_full = run.stats()["store_errors"]

    os.unlink(filler)
    freed = time.monotonic()
    run.wait_landed("after the filler went")
    landed_after = time.monotonic() - freed
    wait_for("the WAL checkpointer to work again", lambda: count_in_log(band, CHECKPOINT_BACK) > 0)
    run.write(5000)
    run.wait_landed("after the recovery")
    band.stop()
    log = band.log()
    check(log.count(STALL) == 1 and log.count(RESUMED) == 1,
          "one stall and one resumption logged, not %d and %d" % (log.count(STALL), log.count(RESUMED)))
    check(log.count(CHECKPOINT_FAILED) == 1 and log.count(CHECKPOINT_BACK) == 1,
          "one checkpoint failure and one recovery logged, not %d and %d"
          % (log.count(CHECKPOINT_FAILED), log.count(CHECKPOINT_BACK)))
    for marker in (STALL, CHECKPOINT_FAILED, RESUMED, CHECKPOINT_BACK):
        say("logged: " + next(line for line in log.splitlines() if marker in line).split("] ", 1)[-1])
    figures = run.check_exact()
    say("PASS disk-full in %.1f s: %s; filler %.1f MB, %d store errors while full, one stall and one "
        "checkpoint failure logged, landed %.2f s after the filler went"
        % (time.monotonic() - started, figures, filler_mb, errors_full, landed_after))
    return 0


# ----- locked -----------------------------------------------------------------

LOCK_SECONDS = 10


def locked(band_binary, banctl, tmp):
    with Run(band_binary, banctl, tmp) as run:
        return locked_run(run)


def locked_run(run):
    band, attack = run.band, run.attack
    started = time.monotonic()
    band.start()
    run.write(5000)
    run.wait_landed("before the lock")
    holder = sqlite3.connect(band.database, timeout=10, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    taken = time.monotonic()
    try:
        while time.monotonic() - taken < LOCK_SECONDS:
            run.alive("under the lock")
            run.write(1000)
            time.sleep(0.5)  # the attack's pace, not a synchronisation
        stalled = count_in_log(band, STALL)
        errors = run.stats()["store_errors"]
        before_release = band.hit_count()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    released = time.monotonic()
    check(stalled == 1, "the stall under the lock logged %d times, not once" % stalled)
    check(errors >= 3, "only %d commit failures counted under a %d s lock" % (errors, LOCK_SECONDS))
    run.wait_landed("after the release", timeout=40)
    landed_after = time.monotonic() - released
    band.stop()
    check(count_in_log(band, RESUMED) == 1, "the resumption is not logged once")
    figures = run.check_exact()
    say("PASS locked in %.1f s: %s; %d hits waited behind a %d s lock (%d store errors, one stall "
        "logged) and landed %.2f s after the release"
        % (time.monotonic() - started, figures, len(attack.written) - before_release, LOCK_SECONDS,
           errors, landed_after))
    return 0


# ----- corrupt ----------------------------------------------------------------

def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def checkpoint_wal(database):
    """Copies the WAL into the file and removes it. A WAL kept after a clean
    stop still holds valid copies of the pages it wrote, and SQLite reads
    those rather than the file's: damage beneath them would not show."""
    db = sqlite3.connect(database)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    db.close()
    check(not os.path.exists(database + "-wal"), "the WAL of %s is still there" % database)


def garbage(database):
    with open(database, "wb") as f:
        f.write(random.Random(1).randbytes(64 * 1024))


def truncated(database):
    with open(database, "r+b") as f:
        f.truncate(os.path.getsize(database) // 2)


def damaged_page(database):
    """A valid SQLite file whose bans table page is overwritten: the header
    and the schema still read."""
    with sqlite3.connect("file:%s?mode=ro" % database, uri=True) as db:
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'bans'").fetchone()[0]
    with open(database, "r+b") as f:
        f.seek((root - 1) * PAGE)
        f.write(b"\xa5" * 512)


def corrupt(band_binary, banctl, tmp):
    with Run(band_binary, banctl, tmp) as run:
        return corrupt_run(run, band_binary)


def corrupt_run(run, band_binary):
    band, database = run.band, run.band.database
    started = time.monotonic()
    result = subprocess.run([band_binary, "--check", "--rebuild-db", "--config", band.config],
                            capture_output=True, text=True, timeout=20)
    check(result.returncode == 2, "--check with --rebuild-db is a usage error, not %r" % (result,))
    band.start()
    run.write(20000)
    run.wait_landed("the first run")
    band.stop()
    moved_aside = 0
    for name, damage in (("garbage", garbage), ("truncated", truncated), ("damaged page", damaged_page)):
        checkpoint_wal(database)
        damage(database)
        before = digest(database)
        refused = subprocess.run([band_binary, "--foreground", "--dry-run", "--config", band.config],
                                 capture_output=True, text=True, timeout=30)
        output = (refused.stdout + refused.stderr).strip().splitlines()
        errors = [line for line in output if "error" in line]
        check(refused.returncode == 1, "%s: exim-band exited %d, not 1:\n%s"
              % (name, refused.returncode, "\n".join(output)))
        check(len(errors) == 1 and database in errors[0] and "--rebuild-db" in errors[0],
              "%s: not one error line naming the file and --rebuild-db:\n%s" % (name, "\n".join(output)))
        check(digest(database) == before, "%s: the refused database was changed" % name)
        say("%s: exit %d, %s" % (name, refused.returncode, errors[0][errors[0].index("error"):]))
        checked = subprocess.run([band_binary, "--check", "--config", band.config],
                                 capture_output=True, text=True, timeout=20)
        check(checked.returncode == 0, "%s: --check looked at the database: %r" % (name, checked))

        # More attack while it was down: the rebuilt store has it too.
        run.write(3000)
        aside = set(os.listdir(os.path.dirname(database)))
        band.start("--rebuild-db")
        moved = sorted(set(os.listdir(os.path.dirname(database))) - aside)
        quarantined = [n for n in moved if n.startswith(os.path.basename(database) + ".corrupt-")]
        main = [n for n in quarantined if not n.endswith(("-wal", "-shm"))]
        check(len(main) == 1, "%s: --rebuild-db moved no one database aside: %s" % (name, moved))
        aside_path = os.path.join(os.path.dirname(database), main[0])
        check(digest(aside_path) == before, "%s: the file moved aside is not the damaged one" % name)
        check(not any(n.startswith(os.path.basename(database) + "-") for n in os.listdir(os.path.dirname(database)))
              or os.path.exists(database), "%s: a WAL or shm file stayed behind" % name)
        check(count_in_log(band, "moved aside to " + aside_path) == 1, "%s: the log does not say where it went" % name)
        run.wait_landed("%s: the rebuild from the log" % name)
        band.stop()
        run.check_exact()
        moved_aside += 1

    # --rebuild-db on an intact database: nothing moves, nothing counted twice.
    run.write(2000)
    listing = sorted(os.listdir(os.path.dirname(database)))
    band.start("--rebuild-db")
    run.wait_landed("the intact database")
    band.stop()
    check(sorted(os.listdir(os.path.dirname(database))) == listing,
          "--rebuild-db moved an intact database")
    check(count_in_log(band, "is intact and stays as it is") == 1, "--rebuild-db on an intact database says nothing")
    figures = run.check_exact()
    say("PASS corrupt in %.1f s: %s; %d damaged databases (garbage, truncated, damaged page) refused "
        "untouched, moved aside and rebuilt from the log; an intact one kept"
        % (time.monotonic() - started, figures, moved_aside))
    return 0


FAULTS = {"disk-full": disk_full, "locked": locked, "corrupt": corrupt}


def main():
    if len(sys.argv) != 4 or sys.argv[3] not in FAULTS:
        sys.exit("usage: store-faults-test BAND BANCTL %s" % "|".join(FAULTS))
    band_binary, banctl, fault = sys.argv[1:]
    if fault == "disk-full" and (skip := enter_mount_namespace()) is not None:
        return skip
    with tempfile.TemporaryDirectory(prefix="exim-band-store-%s-" % fault) as tmp:
        try:
            return FAULTS[fault](band_binary, banctl, tmp)
        except Failure as error:
            say("FAIL %s: %s" % (fault, error))
            return 1


if __name__ == "__main__":
    sys.exit(main())
