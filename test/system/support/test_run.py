"""What every namespace test's driver does the same way: end a helper
process within bounds, and run a test object to PASS or FAIL with its
summary, closing it on every path."""

import signal
import subprocess
import time

from failure import Failure


def stop_process(process, timeout=5):
    """SIGTERM, then SIGKILL if it has not exited within `timeout` s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


def terminate(process, timeout, what="exim-band"):
    """SIGTERM; returns the exit status. When `process` has not exited
    within `timeout` s: SIGKILL, and raises Failure."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        raise Failure("%s did not exit within %d s of SIGTERM" % (what, timeout))


def run_test(test, failures, say):
    """Runs test.run(); a failure of a type in `failures` prints FAIL with
    test.summary() and returns 1, anything else propagates; test.close()
    always runs. On success prints test.notes (if any) and PASS."""
    started = time.monotonic()
    try:
        test.run()
    except failures as e:
        say("FAIL: %s" % e)
        say("so far: %s" % test.summary())
        test.close()
        return 1
    except Exception:
        test.close()
        raise
    test.close()
    for note in getattr(test, "notes", []):
        say("note: %s" % note)
    say("PASS in %.0f s: %s" % (time.monotonic() - started, test.summary()))
    return 0
