"""e2e.py follow MAINLOG: the mainlog follower, a child process of the run."""

import ctypes
import os
import sys
import time



IN_MODIFY = 0x2


def main_follow(path):
    """Prints "MONO_NS LINE" for each complete line appended to `path`,
    MONO_NS being when inotify reported the write (an upper bound of when
    Exim wrote it: the follower runs SCHED_FIFO when it may, so that it is
    not delayed behind busy CPUs)."""
    rt = 0
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
        rt = 1
    except (OSError, AttributeError):
        pass
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    ifd = libc.inotify_init1(os.O_CLOEXEC)
    if ifd < 0 or libc.inotify_add_watch(ifd, os.fsencode(path), IN_MODIFY) < 0:
        print("error inotify: %s" % os.strerror(ctypes.get_errno()), flush=True)
        return 1
    out = sys.stdout.buffer
    out.write(b"ready rt=%d\n" % rt)
    out.flush()
    fd = os.open(path, os.O_RDONLY)
    pending = b""
    t = time.monotonic_ns()
    while True:
        while True:                       # read to the end
            data = os.read(fd, 1 << 16)
            if not data:
                break
            pending += data
            *lines, pending = pending.split(b"\n")
            if lines:
                out.write(b"".join(b"%d %s\n" % (t, ln) for ln in lines))
        out.flush()
        os.read(ifd, 4096)                # blocks until the next write
        t = time.monotonic_ns()
