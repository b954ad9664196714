"""The mainlog as the run sees it: the follower's lines, classified."""

import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "exim-corpus"))
import corpus  # noqa: E402  -- the corpus test's reference classifier
from failure import Failure  # noqa: E402
from plan import DRIVER, MAXRETRY, key_of  # noqa: E402
from test_run import stop_process  # noqa: E402


class Mainlog:
    """The follower's lines, classified with corpus.py's reference shapes
    (mode normal). Per key: hit count, and when its MAXRETRY-th hit line
    appeared."""

    def __init__(self, path, known_addresses):
        self.path = path
        self.known = {corpus.canon(a) for a in known_addresses}
        self.cond = threading.Condition()
        self.lines = 0
        self.times = []            # mono ns of every line, in order
        self.hits_total = 0
        self.hits_by_addr = {}
        self.hits_by_key = {}
        self.reached = {}          # key -> (mono ns, line) of the MAXRETRY-th hit
        self.error = None
        argv = [sys.executable, DRIVER, "follow", path]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = self.process.stdout.readline().decode(errors="replace").strip()
        if not first.startswith("ready"):
            raise Failure("mainlog follower did not start: %r %s" % (first, self.process.stderr.read()[-2000:]))
        self.realtime = first.endswith("rt=1")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.process.stdout:
            t, _, line = raw.rstrip(b"\n").partition(b" ")
            self._line(int(t), line.decode("latin-1"))
        with self.cond:
            self.error = self.error or "the mainlog follower ended"
            self.cond.notify_all()

    def _line(self, t, line):
        addrs = corpus.addresses_in(line) & self.known
        kind = None
        if len(addrs) == 1:
            a = next(iter(addrs))
            for k, rx in corpus.shapes(a):
                if rx.search(line):
                    kind = k
                    break
        with self.cond:
            self.lines += 1
            self.times.append(t)
            if kind in corpus.NORMAL:
                key = key_of(a)
                self.hits_total += 1
                self.hits_by_addr[a] = self.hits_by_addr.get(a, 0) + 1
                n = self.hits_by_key.get(key, 0) + 1
                self.hits_by_key[key] = n
                if n == MAXRETRY:
                    self.reached[key] = (t, line, len(self.times) - 1)
            self.cond.notify_all()

    def wait(self, what, predicate, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                if self.error:
                    raise Failure(self.error)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure("timed out after %.0f s waiting for the mainlog to show %s" % (timeout, what))
                self.cond.wait(left)

    def key_hits(self, key):
        with self.cond:
            return self.hits_by_key.get(key, 0)

    def stop(self):
        stop_process(self.process)
