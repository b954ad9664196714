#!/usr/bin/env python3
"""control-clients-test.py BAND MONITOR -- 1,000 control clients at once
against the real exim-band with the nftables backend, in a network
namespace of its own (needs root, else exit 77).

- The daemon starts with systemd's default soft limit of 1024 open files
  and raises it for its 1,024 connections (/proc/PID/limits).
- 1,000 clients connect, then each sends `status` (every tenth `list`) and
  all get a correct answer within a bound (p50/p99/max printed).
- Meanwhile attack lines still ban: the write() of an attacker's maxretry-th
  line to its element's netlink announcement, within a bound.
- With 1,024 connections open a 1,025th is answered "too many clients".
- The daemon's RSS before and after, and the socket still answers."""

import json
import os
import resource
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from command_line import run_netns_test  # noqa: E402
from failure import Failure  # noqa: E402
from say import sayer  # noqa: E402
from band_harness import Band, failure_line  # noqa: E402
from control_clients import Crowd, connect, read_reply  # noqa: E402
from nft_monitor import Monitor, MonitorEnded  # noqa: E402
from process_info import allow_open_files, memory_kb, open_files_limit  # noqa: E402

CLIENTS = 1000
MAX_CLIENTS = 1024           # ControlServerOptions::max_clients
OWN_DESCRIPTORS = 64         # control_server.cpp: the daemon's files besides its connections
SYSTEMD_SOFT_LIMIT = 1024
BANS = 20                    # at least, one after the other until the crowd is served
MAXRETRY = 3                 # band_harness's jail
REPLY_BOUND_S = 5.0          # every one of the 1,000 answered within this
BAN_BOUND_MS = 250           # a ban may wait behind a round of ~1,000 answers on the one loop
RSS_GROWTH_BOUND_KB = 32 * 1024


say = sayer("control-clients")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


class Test:
    def __init__(self, band_binary, monitor_binary, tmp):
        self.log_path = os.path.join(tmp, "mainlog")
        open(self.log_path, "w").close()
        self.band = Band(band_binary, tmp, [self.log_path])
        self.socket_path = os.path.join(tmp, "control.sock")
        self.monitor = Monitor(monitor_binary)
        self.log_fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND)
        self.figures = {}

    def close(self):
        self.monitor.stop()
        if self.band.process is not None:
            self.band.stop()
        os.close(self.log_fd)

    def summary(self):
        return "; ".join("%s %s" % item for item in self.figures.items())

    def ban_by_log(self, address):
        """ms from the write() of maxretry failures of `address` to its element."""
        lines = (failure_line(address) * MAXRETRY).encode()
        took = self.monitor.time_ban(address, lambda: os.write(self.log_fd, lines))
        if took is None:
            raise Failure("no ban of %s reached the kernel within 10 s" % address)
        return took

    def run(self):
        # The daemon inherits systemd's soft limit; this process needs more.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < MAX_CLIENTS + OWN_DESCRIPTORS + 100:
            raise Failure("the hard limit on open files (%d) is below what the test needs" % hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (SYSTEMD_SOFT_LIMIT, hard))
        try:
            self.band.start(dry_run=False)
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        allow_open_files(MAX_CLIENTS + 256)
        pid = self.band.process.pid
        daemon_soft, _ = open_files_limit(pid)
        self.figures["open files"] = "soft limit %d -> %s" % (SYSTEMD_SOFT_LIMIT, daemon_soft)
        if daemon_soft is not None and daemon_soft < MAX_CLIENTS + OWN_DESCRIPTORS:
            raise Failure("exim-band kept a soft limit of %d open files" % daemon_soft)

        banned = ["198.51.100.%d" % i for i in (1, 2)]
        for address in banned:
            self.ban_by_log(address)
        rss_before = memory_kb(pid)["VmRSS"]

        requests = ['{"cmd":"list"}' if i % 10 == 9 else '{"cmd":"status"}' for i in range(CLIENTS)]
        latencies = []
        ban_failure = []

        served = threading.Event()

        def ban_meanwhile():
            try:
                while len(latencies) < BANS or not served.is_set() and len(latencies) < 150:
                    latencies.append(self.ban_by_log("192.0.2.%d" % (100 + len(latencies))))
            except (Failure, MonitorEnded) as error:
                ban_failure.append(str(error))

        crowd = Crowd(self.socket_path, requests)
        extra = []
        try:
            banner = threading.Thread(target=ban_meanwhile, daemon=True)
            banner.start()
            results = crowd.run(timeout=30)
            served.set()
            # 1,024 open: the crowd's, still within their idle limit, and 24
            # more, each answered (so accepted) before the next one.
            for _ in range(MAX_CLIENTS - CLIENTS):
                client = connect(self.socket_path)
                extra.append(client)
                client.sendall(b'{"cmd":"status"}\n')
                if (read_reply(client) or {}).get("ok") is not True:
                    raise Failure("connection %d of %d was not answered" % (CLIENTS + len(extra), MAX_CLIENTS))
            with connect(self.socket_path) as over:
                refused = read_reply(over)
            banner.join(timeout=60)
        finally:
            crowd.close()
            for client in extra:
                client.close()
        rss_after = memory_kb(pid)["VmRSS"]

        wrong = []
        times = []
        for request, (reply, took) in zip(requests, results):
            if not self.correct(request, reply, banned):
                wrong.append((request, reply))
            else:
                times.append(took)
        self.figures["clients"] = "%d of %d answered correctly, p50 %.0f ms, p99 %.0f ms, max %.0f ms" % (
            len(times), CLIENTS, percentile(times, 0.5) * 1000 if times else 0,
            percentile(times, 0.99) * 1000 if times else 0, max(times) * 1000 if times else 0)
        self.figures["bans meanwhile"] = "%d, p50 %.2f ms, max %.2f ms" % (
            len(latencies), percentile(latencies, 0.5) if latencies else 0, max(latencies) if latencies else 0)
        self.figures["client %d" % (MAX_CLIENTS + 1)] = json.dumps(refused)
        self.figures["RSS"] = "%.1f MB before, %.1f MB after" % (rss_before / 1024, rss_after / 1024)
        with connect(self.socket_path) as client:
            client.sendall(b'{"cmd":"stats"}\n')
            stats = read_reply(client) or {}
        control = stats.get("control", {})
        self.figures["control stats"] = "%s connections, %s refused" % (control.get("connections"),
                                                                      control.get("refused"))
        for name, value in self.figures.items():
            say("%s: %s" % (name, value))

        if wrong:
            raise Failure("%d of %d clients got a wrong answer or none, e.g. %r" % (len(wrong), CLIENTS, wrong[:2]))
        if max(times) > REPLY_BOUND_S:
            raise Failure("the slowest client waited %.1f s (bound %.0f s)" % (max(times), REPLY_BOUND_S))
        if ban_failure or len(latencies) < BANS:
            raise Failure("bans during the crowd: %s" % (ban_failure or "%d of %d" % (len(latencies), BANS)))
        if max(latencies) > BAN_BOUND_MS:
            raise Failure("a ban during the crowd took %.1f ms (bound %d ms)" % (max(latencies), BAN_BOUND_MS))
        if refused != {"ok": False, "error": "too many clients"}:
            raise Failure("connection %d got %r, not too many clients" % (MAX_CLIENTS + 1, refused))
        if control.get("refused") != 1 or control.get("connections", 0) < MAX_CLIENTS:
            raise Failure("stats counts %r" % control)
        if rss_after - rss_before > RSS_GROWTH_BOUND_KB:
            raise Failure("RSS grew from %d to %d kB" % (rss_before, rss_after))

    @staticmethod
    def correct(request, reply, banned):
        if not reply or reply.get("ok") is not True:
            return False
        if "list" in request:
            return set(banned) <= {ban.get("key") for ban in reply.get("bans", [])}
        return reply.get("jails", [{}])[0].get("name") == "exim" and reply.get("lines", 0) >= 2 * MAXRETRY


def main():
    # The crowd's thread and the ban timer's share the interpreter: switch
    # often, so that a write() is not held up behind the crowd's loop.
    sys.setswitchinterval(0.0005)
    return run_netns_test(Test, 3, __doc__, "exim-band-clients-", say)


if __name__ == "__main__":
    sys.exit(main())
