#!/usr/bin/env python3
"""daemon-reload-test.py BAND -- exim-band's start-up checks and SIGHUP reload.

- `--check` accepts a good config (exit 0) and names file:line of a bad one
  (exit 1); the daemon refuses to start on a bad config, saying so once.
- SIGHUP with a broken config is reported and the running one kept; SIGHUP
  with a changed config (maxretry 3 -> 4) takes effect while the hits
  counted before it carry over; SIGTERM exits 0.
- Under systemd's protocol (NOTIFY_SOCKET, WATCHDOG_USEC) it sends READY=1,
  WATCHDOG=1 at half the interval, RELOADING=1 then READY=1 on SIGHUP, and
  STOPPING=1 on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from command_line import exit_with  # noqa: E402
from failure import Failure, check, checks_held  # noqa: E402
from say import sayer  # noqa: E402
from band_harness import Band, failure_line, wait_for  # noqa: E402


def main():
    band_binary = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="exim-band-reload-") as tmp:
        log = os.path.join(tmp, "mainlog")
        open(log, "w").close()
        band = Band(band_binary, tmp, [log])
        good = open(band.config).read()

        result = subprocess.run([band_binary, "--check", "--config", band.config], capture_output=True, text=True, timeout=30)
        check(result.returncode == 0 and ": OK, 1 jail(s) (exim)" in result.stdout, "--check of a good config: %r" % (result,))

        with open(band.config, "a") as f:
            f.write("maxretyr = 4\n")
        bad_line = good.count("\n") + 1
        result = subprocess.run([band_binary, "--check", "--config", band.config], capture_output=True, text=True, timeout=30)
        check(result.returncode == 1 and "exim-ban.conf:%d" % bad_line in result.stderr, "--check of a bad config: %r" % (result,))
        result = subprocess.run([band_binary, "--foreground", "--dry-run", "--config", band.config],
                                capture_output=True, text=True, timeout=30)
        check(result.returncode == 1 and result.stderr.count("maxretyr") == 1,
              "start on a bad config must fail once with the reason: %r" % (result,))

        with open(band.config, "w") as f:
            f.write(good)
        # systemd's side of Type=notify: a datagram socket the daemon writes to.
        notify_path = os.path.join(tmp, "notify.sock")
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(notify_path)
        notify.settimeout(10)

        def expect(state):
            """Reads the daemon's notifications until one holds `state`."""
            seen = []
            while True:
                try:
                    message = notify.recv(4096).decode()
                except socket.timeout:
                    raise Failure("no %s from the daemon; got %r" % (state, seen))
                seen.append(message)
                if state in message.split("\n"):
                    check(True, state)
                    return

        env = dict(os.environ, NOTIFY_SOCKET=notify_path, WATCHDOG_USEC="200000")
        band.start(env=env)
        expect("READY=1")
        expect("WATCHDOG=1")
        expect("WATCHDOG=1")
        with open(log, "a") as f:
            for _ in range(2):
                f.write(failure_line("192.0.2.50"))
        wait_for("2 hits", lambda: band.hit_count() == 2)

        with open(band.config, "a") as f:
            f.write("maxretry = many\n")
        band.process.send_signal(signal.SIGHUP)
        wait_for("the refused reload", lambda: "reload refused" in band.log())
        check(band.process.poll() is None, "the daemon must survive a bad reload")

        with open(band.config, "w") as f:
            f.write(good.replace("maxretry = 3", "maxretry = 4"))
        band.process.send_signal(signal.SIGHUP)
        expect("RELOADING=1")
        expect("READY=1")
        wait_for("the reload", lambda: "reload: done" in band.log())
        with open(log, "a") as f:
            f.write(failure_line("192.0.2.50"))
        wait_for("3 hits", lambda: band.hit_count() == 3)
        check(band.bans() == [], "3 hits must not ban with maxretry 4")
        with open(log, "a") as f:
            f.write(failure_line("192.0.2.50"))
        wait_for("a ban at the 4th hit", lambda: band.bans())
        check([b[1] for b in band.bans()] == ["192.0.2.50"], "the ban: %r" % (band.bans(),))
        check(band.stop() == 0, "SIGTERM exits 0")
        expect("STOPPING=1")
    print("daemon-reload-test: PASS (%d checks)" % checks_held())
    return 0


if __name__ == "__main__":
    exit_with(main, sayer("daemon-reload-test"))
