"""What /proc says about a process the system tests run: its memory, the
CPU time it used and its limit on open files."""

import os
import resource


def memory_kb(pid):
    """{"VmRSS": kB, "VmHWM": kB}: resident now, and its peak."""
    found = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            name = line.split(":")[0]
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(line.split()[1])
    return found


def open_files_limit(pid):
    """(soft, hard) RLIMIT_NOFILE; "unlimited" reads as None."""
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return tuple(None if v == "unlimited" else int(v) for v in (soft, hard))
    raise ValueError("no Max open files in /proc/%d/limits" % pid)


def cpu_seconds(pid):
    """User and system CPU time of all its threads so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def allow_open_files(count):
    """Raises this process's soft limit on open files to `count` (within its
    hard limit), for a test that holds many sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count if hard == resource.RLIM_INFINITY else min(count, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
