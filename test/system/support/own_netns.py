"""For a Python test driver that needs a network namespace of its own (real
nftables, never the host's ruleset): it re-runs itself under `unshare
--net`, and the namespace dies with it on every path. `rerun_unshared` is
the same re-run for any kind of namespace (private_journald's mounts)."""

import os
import subprocess
import sys

MARKER = "EXIM_BAN_OWN_NETNS"


def rerun_unshared(option, marker, needs):
    """Returns True when already re-run (the environment's `marker` says
    so). Otherwise re-executes the script under `unshare OPTION` (does not
    return), or returns 77, the skip status, when it is not root (`needs`
    says for what) or cannot unshare."""
    if os.environ.get(marker) == "in":
        return True
    if os.geteuid() != 0:
        print("SKIP: needs root for " + needs)
        return 77
    os.environ[marker] = "in"
    try:
        os.execvp("unshare", ["unshare", option, "--", sys.executable, os.path.abspath(sys.argv[0]),
                              *sys.argv[1:]])
    except OSError as error:
        print("SKIP: cannot run unshare %s: %s" % (option, error))
        return 77


def enter():
    """In the namespace (loopback up): returns None. Otherwise re-executes
    the script under `unshare --net` (does not return), or returns 77, the
    skip status, when it is not root or cannot unshare."""
    rerun = rerun_unshared("--net", MARKER, "a network namespace and nftables")
    if rerun is not True:
        return rerun
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=10)
    return None
