"""For a Python test driver that needs a network namespace of its own (real
nftables, never the host's ruleset): it re-runs itself under `unshare
--net`, and the namespace dies with it on every path."""

import os
import subprocess
import sys

MARKER = "EXIM_BAN_OWN_NETNS"


def enter():
    """In the namespace (loopback up): returns None. Otherwise re-executes
    the script under `unshare --net` (does not return), or returns 77, the
    skip status, when it is not root or cannot unshare."""
    if os.environ.get(MARKER) == "in":
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=10)
        return None
    if os.geteuid() != 0:
        print("SKIP: needs root for a network namespace and nftables")
        return 77
    os.environ[MARKER] = "in"
    try:
        os.execvp("unshare", ["unshare", "--net", "--", sys.executable, os.path.abspath(sys.argv[0]),
                              *sys.argv[1:]])
    except OSError as error:
        print("SKIP: cannot run unshare --net: %s" % error)
        return 77
