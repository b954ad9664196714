#!/usr/bin/env python3
"""daemon-control-test.py BAND BANCTL MONITOR -- the control socket of a real
exim-band with the nftables backend, in a network namespace of its own
(the test re-runs itself under `unshare -n`; needs root, else exit 77).

- Every exim-banctl daemon command as root, human and --json: status, list,
  show, ban (and its refusals), unban, reload, flush, stats, stats
  --prometheus, unban --all.
- Who may ask: a member of control_group reads but may not change; a peer
  outside the group cannot connect (socket mode 0660), and one that gets
  past the mode (CAP_DAC_OVERRIDE) is refused by SO_PEERCRED; each with a
  message that says what to do.
- Abuse: 100 well-behaved clients at once all answered; then, with slowloris
  clients, abandoned connections, oversized and malformed requests and
  clients that never read their replies all connected, bans still reach the
  kernel within milliseconds (timed from the write() of the line to the
  element's netlink announcement), the daemon's memory stays flat, every
  abuser is answered or closed within the idle limit, and a client over the
  connection limit is turned away.
- bantime.knock_extend: a banned host that keeps knocking (TCP SYNs to 587
  dropped by its element) is banned again with the next escalated time as
  its ban ends; a quiet one is not."""

import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from command_line import start  # noqa: E402
from failure import Failure, check, checks_held  # noqa: E402
from say import sayer  # noqa: E402
from band_harness import Band, failure_line, wait_for  # noqa: E402
from control_clients import read_line, read_reply  # noqa: E402
from nft_monitor import Monitor, MonitorEnded  # noqa: E402
from process_info import allow_open_files, memory_kb  # noqa: E402

NOBODY = 65534
CONTROL_GROUP = "nogroup"    # gid 65534 on Debian
OTHER_GID = 1                # daemon: not the control group
KNOCKER = "192.0.2.7"        # an address on lo, so its SYNs meet the ban
QUIET = "192.0.2.8"
BANTIME = 20                 # renewed at the first knock check within 15 s of its end
MAX_LATENCY_MS = 100         # generous for a loaded CI machine; the figures are printed
MAX_RSS_GROWTH_KB = 32 * 1024
MAX_CLIENTS = 1024           # ControlServerOptions::max_clients

say = sayer("daemon-control")


class Test:
    def __init__(self, band_binary, banctl, monitor_binary, tmp):
        self.banctl_binary = banctl
        self.log_path = os.path.join(tmp, "mainlog")
        open(self.log_path, "w").close()
        self.band = Band(band_binary, tmp, [self.log_path],
                         extra="control_group = %s\ndnsbl_zone = %s\n" % (CONTROL_GROUP, os.path.join(tmp, "exim-ban.zone")),
                         jail_extra="bantime = %ds\nbantime.increment = true\nbantime.factor = 2\n"
                                    "bantime.knock_extend = true\n" % BANTIME)
        self.socket_path = os.path.join(tmp, "control.sock")
        self.zone_path = os.path.join(tmp, "exim-ban.zone")
        with open(band_binary, "rb") as f:
            self.sanitized = b"__asan_init" in f.read()
        self.monitor = Monitor(monitor_binary)
        self.log = open(self.log_path, "a", buffering=1)

    def close(self):
        self.monitor.stop()
        if self.band.process is not None:
            self.band.stop()
        self.log.close()

    # --- tools ---

    def banctl(self, *args, prefix=()):
        run = subprocess.run([*prefix, self.banctl_binary, *args, "--config", self.band.config],
                             capture_output=True, text=True, timeout=30)
        return run.returncode, run.stdout, run.stderr

    def banctl_json(self, *args):
        code, out, err = self.banctl(*args, "--json")
        check(code == 0, "exim-banctl %s --json exited %d: %s" % (" ".join(args), code, err))
        return json.loads(out)

    def ban_by_log(self, address):
        """Writes maxretry (3) failures of `address` in one write(); returns
        the ms from that write to the element's announcement."""
        before = self.monitor.count(address)
        text = failure_line(address) * 3
        started = time.monotonic_ns()
        os.write(self.log.fileno(), text.encode())
        seen = self.monitor.wait(address, before, 10)
        check(seen is not None, "no ban of %s reached the kernel within 10 s" % address)
        return (seen - started) / 1e6

    def zone_keys(self):
        """The keys the rbldnsd data file lists (dnsbl_zone)."""
        try:
            with open(self.zone_path) as f:
                return {line.strip() for line in f if line[:1].isalnum()}
        except FileNotFoundError:
            return set()

    def rss_kb(self):
        return memory_kb(self.band.process.pid)["VmRSS"]

    def connect(self):
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.settimeout(10)
        client.connect(self.socket_path)
        return client

    def request(self, client, line):
        client.sendall(line.encode() + b"\n")
        return json.loads(read_line(client))

    # --- the parts ---

    def run(self):
        self.band.start(dry_run=False)
        idle = [self.ban_by_log(KNOCKER), self.ban_by_log(QUIET)]
        say("bans by the log, idle: %.2f ms, %.2f ms" % tuple(idle))
        knocks = knock(KNOCKER, 587, 3)
        listed = {ban["key"]: ban for ban in self.banctl_json("list")["bans"]}
        check(listed.get(KNOCKER, {}).get("packets", 0) >= knocks,
              "list shows %s's %d knocks as dropped packets: %r" % (KNOCKER, knocks, listed.get(KNOCKER)))
        check(listed.get(QUIET, {}).get("packets") == 0, "the quiet host dropped nothing: %r" % listed.get(QUIET))
        wait_for("the DNSBL zone to list both bans",
                 lambda: {KNOCKER, QUIET} <= self.zone_keys(), timeout=5)
        say("%s knocked %d time(s) on 587; list shows %d packet(s) dropped"
            % (KNOCKER, knocks, listed[KNOCKER]["packets"]))
        self.every_command()
        self.permissions()
        self.abuse()
        self.knock_extend()
        self.restart()
        self.band.stop()

    def every_command(self):
        code, out, err = self.banctl("status")
        check(code == 0 and "exim" in out and self.log_path in out, "status: %d %s %s" % (code, out, err))
        status = self.banctl_json("status")
        check(status["jails"][0]["name"] == "exim" and status["files"][0]["path"] == self.log_path,
              "status --json names the jail and the file: %r" % status)
        check(status["files"][0]["offset"] == os.path.getsize(self.log_path),
              "status shows the file read to its end: %r" % status["files"])

        code, out, err = self.banctl("list")
        check(code == 0 and KNOCKER in out and QUIET in out, "list: %d %s %s" % (code, out, err))
        code, out, err = self.banctl("list", "--jail", "nosuchjail")
        check(code == 1 and "nosuchjail" in err, "list --jail nosuchjail: %d %s" % (code, err))

        code, out, err = self.banctl("show", KNOCKER)
        check(code == 0 and KNOCKER in out and "maxretry" in out, "show: %d %s %s" % (code, out, err))
        shown = self.banctl_json("show", KNOCKER)["keys"][0]
        check(shown["lifetime_hits"] == 3 and len(shown["recent_hits"]) == 3 and len(shown["bans"]) == 1,
              "show --json: 3 hits and 1 ban: %r" % shown)

        manual = "198.51.100.9"
        before = self.monitor.count(manual)
        code, out, err = self.banctl("ban", manual, "--for", "10m")
        check(code == 0, "ban %s: %d %s" % (manual, code, err))
        check(self.monitor.wait(manual, before, 5) is not None, "the manual ban reached the kernel")
        listed = {ban["key"]: ban for ban in self.banctl_json("list")["bans"]}
        check(listed.get(manual, {}).get("origin") == "manual" and 590 <= listed[manual]["remaining_s"] <= 600,
              "list shows the manual ban for 10m: %r" % listed.get(manual))
        code, out, err = self.banctl("ban", "127.0.0.1")
        check(code == 1 and "loopback" in err, "ban 127.0.0.1 is refused: %d %s" % (code, err))
        code, out, err = self.banctl("ban", "not-an-address")
        check(code == 2, "ban not-an-address is a usage error: %d %s" % (code, err))
        code, out, err = self.banctl("unban", manual)
        check(code == 0, "unban: %d %s" % (code, err))
        check(manual not in nft_elements("exim_v4"), "unban removed the element from the kernel")

        code, out, err = self.banctl("reload")
        check(code == 0, "reload: %d %s" % (code, err))
        code, out, err = self.banctl("flush")
        check(code == 0, "flush: %d %s" % (code, err))
        code, out, err = self.banctl("stats")
        check(code == 0 and "lines" in out, "stats: %d %s %s" % (code, out, err))
        stats = self.banctl_json("stats")
        check(stats["lines"] == 6 and stats["hits"] == 6 and stats["bans"] >= 2,
              "stats --json counts 6 lines, 6 hits, 2 bans: %r" % stats)
        code, out, err = self.banctl("stats", "--prometheus")
        check(code == 0 and "\nexim_ban_lines_total 6\n" in out and "exim_ban_knock_renewals_total" in out,
              "stats --prometheus: %d %s" % (code, out[:2000]))
        say("status, list, show, ban, unban, reload, flush, stats, stats --prometheus: as expected")

    def permissions(self):
        member = ("setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", "--")
        outsider = ("setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % OTHER_GID, "--clear-groups", "--")
        past_mode = ("setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % OTHER_GID, "--clear-groups",
                     "--inh-caps=+dac_override", "--ambient-caps=+dac_override", "--")
        code, out, err = self.banctl("status", prefix=member)
        check(code == 0 and "exim" in out, "a member of %s reads the status: %d %s" % (CONTROL_GROUP, code, err))
        code, out, err = self.banctl("ban", "198.51.100.10", prefix=member)
        check(code == 1 and '"ban" changes state and needs root' in err,
              "a member may not ban: %d %s" % (code, err))
        code, out, err = self.banctl("status", prefix=outsider)
        check(code == 1 and "permission denied" in err and "control group" in err,
              "an outsider cannot connect, and is told why: %d %s" % (code, err))
        code, out, err = self.banctl("status", prefix=past_mode)
        check(code == 1 and ('"status" needs root or group %s; you are uid %d' % (CONTROL_GROUP, NOBODY)) in err,
              "an outsider past the socket's mode is refused by SO_PEERCRED: %d %s" % (code, err))
        say("member reads, may not ban; outsider refused at the socket and by SO_PEERCRED: %s"
            % err.strip())

    def abuse(self):
        # 100 well-behaved clients at once.
        replies = []
        lock = threading.Lock()

        def ask():
            with self.connect() as client:
                reply = self.request(client, '{"cmd":"status"}')
            with lock:
                replies.append(reply.get("ok"))
        threads = [threading.Thread(target=ask) for _ in range(100)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        check(replies.count(True) == 100, "100 concurrent clients answered: %d of 100" % replies.count(True))
        say("100 concurrent clients: all answered in %.0f ms" % ((time.monotonic() - started) * 1000))

        rss_before = self.rss_kb()
        abusers = Abusers(self)
        abusers.start()
        try:
            # Spread over the abusers' lifetime: while the slowloris clients
            # trickle, the deaf ones wait and the idle limit closes them.
            latencies = []
            for i in range(20):
                latencies.append(self.ban_by_log("192.0.2.%d" % (20 + i)))
                time.sleep(0.2)
            rss_during = self.rss_kb()
            # One over the limit of connections is turned away at once.
            abusers.over_limit()
        finally:
            closed = abusers.finish()
        latencies.sort()
        say("under abuse (%s): 20 bans, p50 %.2f ms, max %.2f ms; RSS %d -> %d kB%s"
            % (abusers.summary(), latencies[10], latencies[-1], rss_before, rss_during,
               " (ASan build: not checked)" if self.sanitized else ""))
        check(latencies[-1] < MAX_LATENCY_MS, "bans under abuse within %d ms: max %.2f ms"
              % (MAX_LATENCY_MS, latencies[-1]))
        # ASan's quarantine keeps freed memory: the figure means nothing there.
        check(self.sanitized or rss_during - rss_before < MAX_RSS_GROWTH_KB,
              "memory under abuse: %d -> %d kB" % (rss_before, rss_during))
        check(closed, "every abuser answered or closed within the idle limit: %s" % abusers.problems)
        with self.connect() as client:
            check(self.request(client, '{"cmd":"status"}').get("ok") is True, "the socket answers after the abuse")

    def knock_extend(self):
        renewed = "exim: ban %s renewed for %ds" % (KNOCKER, 2 * BANTIME)
        wait_for("the knocking host's renewal in the log", lambda: renewed in self.band.log(), timeout=BANTIME + 10)
        elements = nft_elements("exim_v4")
        check(elements.get(KNOCKER, {}).get("timeout") == 2 * BANTIME,
              "the kernel holds %s for %d s: %r" % (KNOCKER, 2 * BANTIME, elements.get(KNOCKER)))
        check("ban %s renewed" % QUIET not in self.band.log(), "the quiet host's ban was not renewed")
        shown = self.banctl_json("show", KNOCKER)["keys"][0]["bans"]
        check([b["reason"] for b in shown] == ["maxretry", "knock"] and shown[1]["duration_s"] == 2 * BANTIME,
              "show: the ban history is maxretry, then knock for %d s: %r" % (2 * BANTIME, shown))
        listed = [ban for ban in self.banctl_json("list")["bans"] if ban["key"] == KNOCKER]
        check(len(listed) == 1 and listed[0]["reason"] == "knock",
              "list shows the ban in force once: %r" % listed)
        check(self.banctl_json("stats")["knock_renewals"] == 1, "stats counts one renewal")
        say("knock_extend: %s renewed for %d s (ban 2 of the key), %s not renewed"
            % (KNOCKER, 2 * BANTIME, QUIET))


    def restart(self):
        kept, lifted = "198.51.100.77", KNOCKER
        code, out, err = self.banctl("ban", kept, "--for", "1h")
        check(code == 0, "ban %s: %d %s" % (kept, code, err))
        code, out, err = self.banctl("unban", lifted)
        check(code == 0, "unban %s: %d %s" % (lifted, code, err))
        announced = self.monitor.count(lifted)
        self.band.stop()
        self.band.start(dry_run=False)
        listed = {ban["key"]: ban for ban in self.banctl_json("list")["bans"]}
        elements = nft_elements("exim_v4")
        check(kept in listed and listed[kept]["origin"] == "manual" and kept in elements,
              "the manual ban survives a restart: %r" % listed.get(kept))
        check(lifted not in listed and lifted not in elements and self.monitor.count(lifted) == announced,
              "the unban survives a restart: %r %r" % (listed.get(lifted), elements.get(lifted)))
        zone = self.zone_keys()
        check(kept in zone and lifted not in zone, "the DNSBL zone lists %s, not %s: %r" % (kept, lifted, zone))
        say("restart: the manual ban of %s is back in the kernel, the unbanned %s stays out (of the DNSBL zone too)"
            % (kept, lifted))


class Abusers:
    """Clients that break the rules, connected all at once."""
    SLOWLORIS = 100
    ABANDONED = 20
    OVERSIZED = 10
    MALFORMED = 10
    DEAF = 10          # send many requests and never read the replies
    IDLE_LIMIT = 5.0   # the daemon's, ControlServerOptions::idle_timeout
    SLACK = 3.0

    def __init__(self, test):
        self.test = test
        self.problems = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = []
        self.counts = {}

    def problem(self, text):
        with self.lock:
            self.problems.append(text)

    def count(self, what):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    def spawn(self, target, n):
        for i in range(n):
            t = threading.Thread(target=target, args=(i,), daemon=True)
            t.start()
            self.threads.append(t)

    def start(self):
        self.ready = threading.Barrier(self.SLOWLORIS + self.ABANDONED + self.DEAF + 1, timeout=30)
        self.spawn(self.slowloris, self.SLOWLORIS)
        self.spawn(self.abandoned, self.ABANDONED)
        self.spawn(self.deaf, self.DEAF)
        self.spawn(self.oversized, self.OVERSIZED)
        self.spawn(self.malformed, self.MALFORMED)
        self.ready.wait()

    def closed_in_time(self, client, opened, what):
        """Waits for the daemon to close `client`; true if it did within the
        idle limit (plus slack)."""
        client.settimeout(self.IDLE_LIMIT + self.SLACK)
        try:
            while client.recv(65536):
                pass
        except socket.timeout:
            self.problem("%s still open after %.1f s" % (what, time.monotonic() - opened))
            return False
        except ConnectionResetError:
            pass
        took = time.monotonic() - opened
        if took > self.IDLE_LIMIT + self.SLACK:
            self.problem("%s closed after %.1f s" % (what, took))
            return False
        self.count(what + " closed")
        return True

    def slowloris(self, i):
        with self.test.connect() as client:
            opened = time.monotonic()
            client.sendall(b'{"cmd":')
            self.ready.wait()
            client.setblocking(False)
            # A byte every 0.2 s is progress, but no request: the daemon
            # closes it when the request has taken the idle limit.
            while time.monotonic() - opened < self.IDLE_LIMIT + self.SLACK:
                try:
                    client.sendall(b" ")
                except (BrokenPipeError, ConnectionResetError, BlockingIOError):
                    break
                try:
                    if client.recv(65536) == b"":
                        break
                except BlockingIOError:
                    pass
                time.sleep(0.2)
            client.setblocking(True)
            self.closed_in_time(client, opened, "slowloris")

    def abandoned(self, i):
        with self.test.connect() as client:
            opened = time.monotonic()
            self.ready.wait()
            self.closed_in_time(client, opened, "abandoned")

    def deaf(self, i):
        with self.test.connect() as client:
            opened = time.monotonic()
            client.setblocking(False)
            burst = b'{"cmd":"stats"}\n' * 20000
            sent = 0
            try:
                while sent < len(burst):
                    sent += client.send(burst[sent:])
            except BlockingIOError:
                pass   # the daemon stopped reading: its replies are not taken
            self.ready.wait()
            client.setblocking(True)
            if sent == len(burst):
                self.problem("the daemon took all of a deaf client's %d bytes" % sent)
            # Reading would take the replies the daemon waits to hand over:
            # wait for its hang-up without reading.
            poller = select.poll()
            poller.register(client, select.POLLRDHUP | select.POLLHUP)
            left = self.IDLE_LIMIT + self.SLACK - (time.monotonic() - opened)
            if not poller.poll(max(left, 0) * 1000):
                self.problem("a deaf client still open after %.1f s" % (time.monotonic() - opened))
            else:
                self.count("deaf closed")

    def oversized(self, i):
        with self.test.connect() as client:
            opened = time.monotonic()
            try:
                client.sendall(b'{"cmd":"status","pad":"' + b"x" * 70000 + b'"}\n')
            except (BrokenPipeError, ConnectionResetError):
                pass
            reply = read_reply(client)
            if reply is None or reply.get("ok") is not False or "too long" not in reply.get("error", ""):
                self.problem("an oversized request got %r" % reply)
                return
            self.closed_in_time(client, opened, "oversized")

    def malformed(self, i):
        with self.test.connect() as client:
            for bad in (b"{not json\n", b"[1,2,3]\n", b'{"cmd":"nosuchcommand"}\n', b"\xff\xfe\n"):
                client.sendall(bad)
                reply = read_reply(client)
                if reply is None or reply.get("ok") is not False or not reply.get("error"):
                    self.problem("%r got %r" % (bad, reply))
                    return
            client.sendall(b'{"cmd":"status"}\n')
            reply = read_reply(client)
            if reply is None or reply.get("ok") is not True:
                self.problem("a good request after malformed ones got %r" % reply)
                return
            self.count("malformed answered")

    def over_limit(self):
        """Fills the daemon's MAX_CLIENTS connections and checks that the next one
        is closed at once, not queued."""
        with self.lock:
            held = self.SLOWLORIS + self.ABANDONED + self.DEAF
        extra = []
        try:
            # A few more than the limit: the oversized and malformed
            # clients may still hold places too.
            for _ in range(MAX_CLIENTS - held + 10):
                extra.append(self.test.connect())
            time.sleep(0)  # every connect() above has returned: the daemon accepted or queued them
            over = self.test.connect()
            opened = time.monotonic()
            over.settimeout(2)
            try:
                data = over.recv(65536)
            except socket.timeout:
                data = None
            over.close()
            if data is None:
                self.problem("a client over the limit was neither answered nor closed within 2 s")
            else:
                self.count("over the limit turned away")
                reply = data.decode(errors="replace").strip()
                say("a client over the limit of %d: %s after %.0f ms"
                    % (MAX_CLIENTS, reply or "closed", (time.monotonic() - opened) * 1000))
        finally:
            for client in extra:
                client.close()

    def finish(self):
        for t in self.threads:
            t.join(timeout=self.IDLE_LIMIT + self.SLACK + 10)
        if any(t.is_alive() for t in self.threads):
            self.problem("abuser threads still running")
        return not self.problems

    def summary(self):
        with self.lock:
            return ", ".join("%d %s" % (n, what) for what, n in sorted(self.counts.items())) or \
                "%d slowloris, %d abandoned, %d deaf, %d oversized, %d malformed" % (
                    self.SLOWLORIS, self.ABANDONED, self.DEAF, self.OVERSIZED, self.MALFORMED)


def knock(address, port, times):
    """TCP connection attempts from `address` (on lo) to itself: each SYN
    meets the ban's element and is dropped. Returns how many timed out."""
    dropped = 0
    for _ in range(times):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((address, 0))
            s.settimeout(0.3)
            try:
                s.connect((address, port))
            except socket.timeout:
                dropped += 1
            except ConnectionRefusedError:
                pass
    return dropped


def nft_elements(set_name):
    """The set's elements: address -> {"timeout": s, "packets": n}."""
    out = subprocess.run(["nft", "-j", "list", "set", "inet", "exim_ban", set_name],
                         capture_output=True, text=True, timeout=10, check=True).stdout
    elements = {}
    for item in json.loads(out)["nftables"]:
        for entry in item.get("set", {}).get("elem", []):
            elem = entry.get("elem", {})
            value = elem.get("val")
            if isinstance(value, str):
                elements[value] = {"timeout": elem.get("timeout"),
                                   "packets": elem.get("counter", {}).get("packets", 0)}
    return elements


def main():
    status = start(4, __doc__, netns=True)   # with the loopback up
    if status is not None:
        return status
    for address in (KNOCKER, QUIET):
        subprocess.run(["ip", "addr", "add", address + "/32", "dev", "lo"], check=True, timeout=10)

    band_binary, banctl, monitor = (os.path.abspath(a) for a in sys.argv[1:])
    allow_open_files(MAX_CLIENTS + 512)  # the abusers and a full house of connections
    with tempfile.TemporaryDirectory(prefix="exim-band-control-") as tmp:
        os.chmod(tmp, 0o755)  # the unprivileged clients must reach the socket
        test = Test(band_binary, banctl, monitor, tmp)
        started = time.monotonic()
        try:
            test.run()
        except (Failure, MonitorEnded) as error:
            print("FAIL: %s\n--- exim-band's log (end) ---\n%s" % (error, test.band.log()[-4000:]))
            return 1
        finally:
            test.close()
    say("PASS: %d checks in %.0f s" % (checks_held(), time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
