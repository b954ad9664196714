"""e2e.py run (in the server namespace): the test itself, steps 1 to 4 and
the figures; step 5 is banctl_checks.py."""

import json
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "exim-corpus"))
import corpus  # noqa: E402  -- the corpus test's reading of a swaks transcript
from banctl_checks import banctl_checks  # noqa: E402
from band_daemon import Daemon  # noqa: E402
from failure import Failure  # noqa: E402
from mainlog import Mainlog  # noqa: E402
from nft_monitor import Monitor, MonitorEnded  # noqa: E402
from plan import (BANTIME, BAN_TIMEOUT, BOT_HOME, DRIVER, GUESS_USERS, HITS, MAXRETRY, PORTS,  # noqa: E402
                  RAW_KINDS, SRV_BOT, SRV_USER, SWAKS_TIMEOUT, USER, USER_INTERVAL, USER_NAME,
                  USER_PASSWORD, key_of, plan)
from progress import say, step  # noqa: E402
from test_run import run_test  # noqa: E402


def percentile(values, p):
    """Nearest-rank percentile."""
    v = sorted(values)
    if not v:
        return float("nan")
    rank = max(1, -(-len(v) * p // 100))
    return v[int(rank) - 1]


def swaks_auth_code(transcript):
    return corpus.swaks_auth_reply(transcript)


class Test:
    def __init__(self, args):
        self.args = args
        self.work = args["work"]
        self.banctl = args["banctl"]
        self.mainlog_path = os.path.join(self.work, "log", "mainlog")
        self.main, self.restart_ident, self.series = plan()
        self.idents = self.main + [self.restart_ident] + self.series
        self.bans = []                 # (ident, latency ms)
        self.ban_records = []          # the same, in detail, for bans.json
        self.dropped = 0               # bot connections that timed out (dropped by a ban)
        self.user_ok = 0
        self.user_failures = []
        self.user_lock = threading.Lock()
        self.user_n = 0
        self.stop_user = threading.Event()
        self.notes = []
        self.unbanned = set()          # keys lifted by exim-banctl unban (step 5)
        self.bans_before_restart = 0
        self.hits_before_restart = 0
        self.pending = []              # final bot attempts still running

    # --- helpers -----------------------------------------------------------------
    def in_ns(self, ns, argv):
        return ["ip", "netns", "exec", ns] + argv

    def nft_list(self):
        p = subprocess.run([self.banctl, "nft-list", "--json"], capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise Failure("exim-banctl nft-list --json exited %d: %s" % (p.returncode, p.stderr.strip()))
        j = json.loads(p.stdout)
        out = {}
        for e in j.get("elements", []):
            addr = e["element"].split("/")[0]
            out[key_of(addr)] = e
        return out

    def probe(self, ns, specs):
        p = subprocess.run(self.in_ns(ns, [sys.executable, DRIVER, "probe"] + specs),
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise Failure("probe failed: %s" % p.stderr[-2000:])
        return json.loads(p.stdout)

    def swaks_args(self, src, dst, port, user, password, mech, extra=()):
        args = ["swaks", "--server", dst, "--port", str(port), "--local-interface", src,
                "--timeout", str(SWAKS_TIMEOUT), "--auth", mech, "--auth-user", user,
                "--auth-password", password]
        if ":" in dst:
            args.append("-6")
        args += ["--tls-on-connect"] if port == 465 else ["--tls"]
        return args + list(extra)

    # --- the user ----------------------------------------------------------------------
    def user_submit(self, why):
        with self.user_lock:
            self.user_n += 1
            n = self.user_n
        fam = 4 if n % 2 else 6
        port = 465 if n % 4 in (2, 3) else 587
        args = self.swaks_args(USER[fam], SRV_USER[fam], port, USER_NAME, USER_PASSWORD, "LOGIN",
                               ["--helo", "alice-laptop.e2e.example", "--from", "alice@e2e.example",
                                "--to", "bob@e2e.example", "--header", "Subject: exim-e2e user message %d" % n,
                                "--body", "message %d (%s)" % (n, why)])
        args[args.index("--timeout") + 1] = "15"
        try:
            p = subprocess.run(self.in_ns(self.args["ns_user"], args), capture_output=True, text=True, timeout=60)
            out = p.stdout + p.stderr
        except subprocess.TimeoutExpired as e:
            out = "swaks did not finish within 60 s: %s" % e
        m = re.search(r"^<[~-] +250 OK id=(\S+)", out, re.M)
        with self.user_lock:
            if m and swaks_auth_code(out) == 235:
                self.user_ok += 1
                return m.group(1)
            self.user_failures.append("user message %d (IPv%d, port %d, %s) not accepted:\n%s"
                                      % (n, fam, port, why, out[-3000:]))
        raise Failure(self.user_failures[-1])

    def user_loop(self):
        while not self.stop_user.wait(USER_INTERVAL):
            try:
                self.user_submit("background")
            except Failure:
                pass    # recorded; the next step fails on it

    def check_user(self):
        with self.user_lock:
            if self.user_failures:
                raise Failure(self.user_failures[0])

    # --- the bot -------------------------------------------------------------------------
    def attempt(self, kind, src, wait=True):
        """Starts one attempt of the bot; returns a function that waits for
        it and returns (ok, detail)."""
        fam = 6 if ":" in src else 4
        dst = SRV_BOT[fam]
        if kind in RAW_KINDS:
            argv = [sys.executable, DRIVER, "client", kind, src, dst]
        else:
            port = 465 if kind.endswith("465") else 587
            mech = "PLAIN" if port == 465 else "LOGIN"
            self.guess_n = getattr(self, "guess_n", 0) + 1
            user = GUESS_USERS[self.guess_n % len(GUESS_USERS)]
            argv = self.swaks_args(src, dst, port, user, "guess%d" % self.guess_n, mech,
                                   ["--helo", "ylmf-pc", "--from", "probe@bot.example",
                                    "--to", "alice@e2e.example", "--quit-after", "AUTH"])
        proc = subprocess.Popen(self.in_ns(self.args["ns_bot"], argv), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

        def finish():
            try:
                out, _ = proc.communicate(timeout=3 * SWAKS_TIMEOUT + 10)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate(timeout=10)
                return False, "did not finish in time:\n" + out[-2000:]
            if kind in RAW_KINDS:
                try:
                    r = json.loads(out.strip().splitlines()[-1])
                except (ValueError, IndexError):
                    return False, out[-2000:]
                return r["ok"], json.dumps(r)
            code = swaks_auth_code(out)
            want = 535 if kind.startswith("guess") else 503
            return code == want, "AUTH reply %s, wanted %d:\n%s" % (code, want, out[-2500:])

        finish.process = proc
        finish.what = "bot attempt %s from %s" % (kind, src)
        if wait:
            ok, detail = finish()
            if not ok:
                raise Failure("%s went wrong: %s" % (finish.what, detail))
            return None
        return finish

    def collect_attempts(self):
        """The final attempts left running (a session that its own ban cut
        ends at swaks' timeout): each must have seen the reply it wanted."""
        pending, self.pending = self.pending, []
        for finish in pending:
            ok, detail = finish()
            if not ok:
                raise Failure("%s went wrong: %s" % (finish.what, detail))

    def wait_caught_up(self, daemon):
        """The store holds exactly as many hits as the mainlog shows so far
        (none lost, none twice): the daemon has judged every line."""
        want = self.log.hits_total
        deadline = time.monotonic() + 15
        while True:
            daemon.alive()
            got = daemon.stored_hits()
            if got == want and self.log.hits_total == want:
                return
            if time.monotonic() > deadline:
                raise Failure("the store holds %d hits after 15 s, the mainlog shows %d%s"
                              % (got, want, " (counted twice?)" if got > want else " (lost?)"))
            want = self.log.hits_total
            time.sleep(0.02)

    def run_attempts(self, ident, daemon, upto=None):
        """The ident's attempts (from attempt number ident.done on, until
        `upto`); the one that reaches MAXRETRY is the final one: its ban is
        awaited and timed. Returns the latency in ms, or None."""
        done = getattr(ident, "done", 0)
        cum = sum(HITS[k] for k, _ in ident.attempts[:done])
        stop = len(ident.attempts) if upto is None else upto
        for i in range(done, stop):
            kind, ai = ident.attempts[i]
            src = ident.addrs[ai]
            ident.done = i + 1
            if cum + HITS[kind] < MAXRETRY:
                self.attempt(kind, src)
                cum += HITS[kind]
                self.log.wait("%d hit(s) of %s" % (cum, ident.key), lambda: self.log.key_hits(ident.key) >= cum, 15)
                if self.log.key_hits(ident.key) != cum:
                    raise Failure("%s: %d hits in the mainlog, %d expected" % (ident.name, self.log.key_hits(ident.key), cum))
                continue
            # the final attempt: first, the daemon has seen every line and has not banned
            self.wait_caught_up(daemon)
            if ident.key in self.nft_list() or self.monitor.count(ident.key):
                raise Failure("%s: %s banned after %d hit(s), before maxretry (%d)" % (ident.name, ident.key, cum, MAXRETRY))
            finish = self.attempt(kind, src, wait=False)
            # the ban, or the attempt's failure, whichever comes first
            cum += HITS[kind]
            deadline = None
            while True:
                t_ban = self.monitor.wait(ident.key, 0, 0.05)
                if t_ban is not None:
                    break
                if deadline is None and self.log.key_hits(ident.key) >= MAXRETRY:
                    deadline = time.monotonic() + BAN_TIMEOUT
                if finish.process.poll() is not None:
                    ok, detail = finish()
                    if not ok:
                        raise Failure("%s went wrong: %s" % (finish.what, detail))
                    if deadline is None:
                        self.log.wait("%d hit(s) of %s" % (cum, ident.key), lambda: self.log.key_hits(ident.key) >= cum, 15)
                        deadline = time.monotonic() + BAN_TIMEOUT
                if deadline is not None and time.monotonic() > deadline:
                    raise Failure("%s: no element for %s in the kernel %.0f s after the line that reached maxretry:\n  %s"
                                  % (ident.name, ident.key, BAN_TIMEOUT, self.log.reached[ident.key][1]))
            self.pending.append(finish)
            self.log.wait("%d hit(s) of %s" % (cum, ident.key), lambda: self.log.key_hits(ident.key) >= cum, 15)
            t_line, line, index = self.log.reached[ident.key]
            latency = (t_ban - t_line) / 1e6
            if latency < 0:
                raise Failure("%s: %s in the kernel %.3f ms BEFORE the line that reached maxretry:\n  %s"
                              % (ident.name, ident.key, -latency, line))
            elements = self.nft_list()
            e = elements.get(ident.key)
            if e is None or e.get("jail") != "exim" or not (0 < e.get("expires", 0) <= BANTIME):
                raise Failure("%s: exim-banctl nft-list shows %r for %s" % (ident.name, e, ident.key))
            self.bans.append((ident, latency))
            self.ban_records.append({"key": ident.key, "what": ident.name, "line": line, "line_mono_ns": t_line,
                                     "kernel_mono_ns": t_ban, "real_minus_mono_ns": self.monitor.real_minus_mono,
                                     "latency_ms": latency})
            with self.log.cond:
                after = self.log.times[index + 1:]
            burst = sum(1 for x in after if x < t_ban)   # lines Exim wrote in between
            say("  ban %-16s %6.2f ms after its line (Exim wrote %d more meanwhile) %s: %s"
                % (ident.key, latency, burst, ident.name, line[20:100]))
            return latency
        return None

    def blocked_probe(self, idents, why):
        """Every address of each ident: 25, 465 and 587 time out; the bot's
        home address still connects; the user still submits."""
        specs = []
        for ident in idents:
            for a in ident.addrs:
                for port in PORTS:
                    specs.append("%s,%s,%d" % (a, SRV_BOT[ident.family], port))
        fams = sorted({i.family for i in idents})
        home = ["%s,%s,25" % (BOT_HOME[f], SRV_BOT[f]) for f in fams]
        before = self.nft_list()
        res = self.probe(self.args["ns_bot"], specs + home)
        bad = {s: r for s, r in res.items() if s in specs and not r.startswith("timeout")}
        if bad:
            raise Failure("%s: connections from banned addresses were not dropped (want a timeout, not a "
                          "refusal or a session): %s" % (why, json.dumps(bad, indent=1)))
        for h in home:
            if not res[h].startswith("connected 220"):
                raise Failure("%s: the bot's unbanned address %s: %s (want a session)" % (why, h, res[h]))
        self.dropped += len(specs)
        after = self.nft_list()
        for ident in idents:
            n = len(ident.addrs) * len(PORTS)
            b = before.get(ident.key, {}).get("packets", 0)
            a = after.get(ident.key, {}).get("packets", 0)
            if a - b < n:
                raise Failure("%s: the element of %s counted %d packets for %d dropped connections"
                              % (why, ident.key, a - b, n))
        self.user_submit(why)
        self.check_user()
        self.collect_attempts()

    # --- the steps -----------------------------------------------------------------------
    def run(self):
        a = self.args
        self.monitor = Monitor(a["monitor"])
        self.log = Mainlog(self.mainlog_path,
                           [x for i in self.idents for x in i.addrs] + list(BOT_HOME.values()) + list(USER.values()))
        say("observers: mainlog follower (SCHED_FIFO: %s), netlink monitor (SCHED_FIFO: %s)"
            % ("yes" if self.log.realtime else "no", "yes" if self.monitor.realtime else "no"))
        daemon = self.daemon = Daemon(a["band"], self.work, self.mainlog_path)
        daemon.start()
        table = subprocess.run(["nft", "list", "table", "inet", "exim_ban"], capture_output=True, text=True, timeout=30)
        if table.returncode != 0 or "@exim_v4" not in table.stdout or "@exim_v6" not in table.stdout:
            raise Failure("exim-band started but table inet exim_ban is not as expected:\n%s%s" % (table.stdout, table.stderr))
        say("exim-band (nftables backend) started, following %s" % self.mainlog_path)

        # 1. the user submits (and keeps submitting in the background)
        for _ in range(4):
            self.user_submit("step 1")
        threading.Thread(target=self.user_loop, daemon=True).start()
        step("step 1: the user submitted 4 messages (587 STARTTLS and 465, IPv4 and IPv6, AUTH LOGIN): 250 OK")

        # 2. + 3. the bot: a ban per identity, each timed
        for ident in self.main:
            self.run_attempts(ident, daemon)
            self.blocked_probe([ident], ident.name)
        step("step 2: %d bans; each banned address (and the second address of each banned /64) timed out "
            "on 25, 465 and 587; the bot's unbanned address and the user kept connecting" % len(self.main))

        for ident in self.series:
            self.run_attempts(ident, daemon)
            self.check_user()
        self.blocked_probe(self.series, "latency series")
        step("step 3: latency series: %d more bans, all of them drop 25, 465 and 587" % len(self.series))

        # 4. restart
        self.restart_step(daemon)

        # 5. the control socket's commands
        banctl_checks(self)

        self.final_checks(daemon)

    def restart_step(self, daemon):
        r = self.restart_ident
        self.run_attempts(r, daemon, upto=1)          # hit 1 with the daemon running
        self.wait_caught_up(daemon)
        before = self.nft_list()
        announced = {k: self.monitor.count(k) for k in before}
        daemon.stop()
        self.bans_before_restart = len(self.bans)
        self.hits_before_restart = self.log.hits_total
        down = self.nft_list()
        missing = sorted(set(before) - set(down))
        if missing:
            raise Failure("with exim-band stopped the kernel lost %d ban(s), e.g. %s" % (len(missing), missing[:3]))
        self.blocked_probe([self.main[0], self.main[5]], "exim-band stopped")
        self.run_attempts(r, daemon, upto=2)          # hit 2 while the daemon is down
        daemon.start()
        self.wait_caught_up(daemon)                   # the backlog: hit 2 once, hit 1 not again
        after = self.nft_list()
        if r.key in after:
            raise Failure("after the restart %s is banned with %d hits" % (r.key, self.log.key_hits(r.key)))
        missing = sorted(set(before) - set(after))
        if missing:
            raise Failure("after the restart the kernel lacks %d ban(s), e.g. %s" % (len(missing), missing[:3]))
        longer = [k for k in before if after[k]["expires"] > before[k]["expires"] + 1]
        if longer:
            raise Failure("the restart lengthened %d ban(s), e.g. %s: %s -> %s" % (
                len(longer), longer[0], before[longer[0]]["expires"], after[longer[0]]["expires"]))
        readded = [k for k in before if self.monitor.count(k) != announced[k]]
        if readded:
            self.notes.append("the restart re-added %d element(s) that were present" % len(readded))
        self.blocked_probe([self.main[0], self.main[5]], "after the restart")
        self.run_attempts(r, daemon)                  # hit 3 after the restart: banned
        self.blocked_probe([r], r.name)
        step("step 4: restart (SIGTERM, exit 0, start): %d bans stayed in the kernel while it was down and "
            "after (none lengthened%s), the bot still timed out; a key with 1 hit before, 1 while down "
            "and 1 after was banned at its 3rd" % (len(before), ", none re-added" if not readded else ""))

    def final_checks(self, daemon):
        self.collect_attempts()
        self.stop_user.set()
        self.check_user()
        self.wait_caught_up(daemon)
        elements = self.nft_list()
        want = {i.key for i, _ in self.bans} - self.unbanned
        if set(elements) != want:
            raise Failure("the kernel holds %s, the bans made were %s" % (sorted(set(elements) - want), sorted(want - set(elements))))
        for fam in (4, 6):
            if key_of(USER[fam]) in elements or self.monitor.count(key_of(USER[fam])):
                raise Failure("the user's address %s was banned" % USER[fam])
            if self.log.hits_by_addr.get(USER[fam]):
                raise Failure("the mainlog shows %d hit(s) for the user" % self.log.hits_by_addr[USER[fam]])
        stored = daemon.stored_bans()
        if stored != len(self.bans):
            raise Failure("the store holds %s bans, %d were made" % (stored, len(self.bans)))
        # the daemon's filter and the reference classifier agree on every address
        p = subprocess.run([self.banctl, "test", self.mainlog_path, "exim", "--json"], capture_output=True,
                           text=True, timeout=120)
        if p.returncode != 0:
            raise Failure("exim-banctl test exited %d: %s" % (p.returncode, p.stderr[-2000:]))
        hosts = {corpus.canon(h): n for h, n in json.loads(p.stdout)["hosts"].items()}
        if hosts != self.log.hits_by_addr:
            diff = {h: (hosts.get(h), self.log.hits_by_addr.get(h))
                    for h in set(hosts) | set(self.log.hits_by_addr) if hosts.get(h) != self.log.hits_by_addr.get(h)}
            raise Failure("exim-banctl test and the reference classifier disagree (filter, reference): %s" % diff)
        # every accepted message was delivered
        conf = os.path.join(self.work, "exim.conf")
        deadline = time.monotonic() + 30
        box = os.path.join(self.work, "mail", "bob")
        while True:
            try:
                with open(box, errors="replace") as f:
                    delivered = len(re.findall(r"^Subject: exim-e2e user message ", f.read(), re.M))
            except FileNotFoundError:
                delivered = 0
            if delivered == self.user_ok:
                break
            if time.monotonic() > deadline:
                q = subprocess.run(["exim", "-C", conf, "-bp"], capture_output=True, text=True, timeout=30)
                raise Failure("%d of %d accepted user messages delivered after 30 s; queue:\n%s"
                              % (delivered, self.user_ok, q.stdout[-2000:]))
            time.sleep(0.05)
        daemon.stop()
        panic = os.path.join(self.work, "log", "paniclog")
        if os.path.exists(panic) and os.path.getsize(panic):
            with open(panic, errors="replace") as f:
                raise Failure("Exim's paniclog is not empty:\n" + f.read()[-2000:])
        if self.monitor.overruns:
            self.notes.append("the monitor lost announcements %d time(s)" % self.monitor.overruns)

    def summary(self):
        lat = [l for _, l in self.bans]
        v4 = sum(1 for i, _ in self.bans if i.family == 4)
        text = ("bans %d (IPv4 %d, IPv6 /64 %d), bot connections dropped (timed out) %d, "
                "user messages accepted %d/%d, " % (len(self.bans), v4, len(self.bans) - v4, self.dropped,
                                                    self.user_ok, self.user_n))
        if not lat:
            return text + "ban latency: no bans (n=0)"
        return text + ("ban latency p50 %.2f ms p99 %.2f ms max %.2f ms (n=%d)"
                       % (percentile(lat, 50), percentile(lat, 99), max(lat), len(lat)))

    def close(self):
        self.stop_user.set()
        with open(os.path.join(self.work, "bans.json"), "w") as f:
            json.dump(self.ban_records, f, indent=1)
        for thing in (getattr(self, "daemon", None),):
            if thing is not None and thing.process is not None:
                try:
                    thing.stop()
                except Failure as e:
                    say("while stopping: %s" % e)
        for thing in (getattr(self, "log", None), getattr(self, "monitor", None)):
            if thing is not None:
                thing.stop()


def main_run(argv):
    args = dict(zip(("work", "band", "banctl", "monitor", "ns_bot", "ns_user"), argv))
    if len(args) != 6:
        print("usage: e2e.py run WORK BAND BANCTL MONITOR NS_BOT NS_USER", file=sys.stderr)
        return 2
    return run_test(Test(args), (Failure, MonitorEnded), say)
