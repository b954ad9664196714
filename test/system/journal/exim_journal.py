"""Part `exim` of journal-test, run inside the booted machine: Debian's Exim
4.96 (the corpus's instance A, exim-corpus/exim-A.conf) logging to its
mainlog and to syslog, where journald (no rsyslog in the machine) takes its
lines; real SMTP sessions against it from the machine's own addresses
(password guessers with swaks, AUTH when not advertised, the connect and
AUTH ACLs' refusals, a user who sends mail); one exim-band with nftables and
two jails on the shipped exim filter: `exim` on the mainlog, `eximjournal`
on the journal (journalmatch SYSLOG_IDENTIFIER=exim).

Both jails must count every host exactly as `exim-banctl test` counts the
final mainlog and as the plan says, and ban the same keys, in the store and
in the machine's kernel sets."""

import collections
import json
import os
import re
import signal
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "exim-corpus"))
import corpus  # noqa: E402
from band_harness import Band, key_of, offline_bans, wait_for  # noqa: E402
from failure import Failure, check  # noqa: E402
from journal_source import JAIL_SETTINGS, LOGPATH, entries, text  # noqa: E402
from smtp_client import auth_unadvertised, greet  # noqa: E402

EXIM_A = os.path.join(HERE, "..", "exim-corpus", "exim-A.conf")
MAXRETRY = 3
# With Exim's default syslog_duplication (true) a line meant for both the
# mainlog and the rejectlog (a 535, an ACL's refusal) reaches the journal
# twice, the main copy at priority info then the reject copy at notice (seen
# on 4.96: 535 and connect-ACL lines twice); with false, only the reject
# copy. The journal source hands the reject copy on only when it is the sole
# copy, so the journal jail counts as the mainlog does either way.
SYSLOG = "log_file_path   = INST/log/%slog : syslog"
NO_DUPLICATION = "\nsyslog_duplication = false"
SERVER = corpus.SERVER["A"]


def guesses(port, tls, tries, mech="LOGIN"):
    """`tries` sessions, each one wrong password (swaks): one hit each."""
    def attack(client):
        for i in range(tries):
            corpus.submit(client, "A", port, tls, "alice", "guess%d" % i, mech, helo="ylmf-pc")
        return tries
    return attack


def unadvertised(times):
    """AUTH LOGIN on 25, where AUTH is not advertised, `times` times in one
    session: one hit each."""
    def attack(client):
        codes = auth_unadvertised(None, client.addr, SERVER[corpus.fam(client.addr)], 25, times)
        check(codes == [503] * times, "%s: AUTH not advertised got %r" % (client.addr, codes))
        return times
    return attack


def refused_submission(attempts):
    """Connections to 587 from a host not in the allow file: the connect
    ACL's defer and its logwrite "AUTH nixed IP 587 connect", two hits
    each."""
    def attack(client):
        for _ in range(attempts):
            code, text, _took = greet(None, client.addr, SERVER[corpus.fam(client.addr)], 587)
            check(code is not None and 400 <= code < 500 and "Submission not permitted" in text,
                  "%s: 587 greeting %r %r" % (client.addr, code, text))
        return 2 * attempts
    return attack


def refused_auth(client):
    """AUTH on 587 from a host allowed to submit but not to authenticate:
    the AUTH ACL's drop and its logwrite "AUTH nixed: IP ...", two hits."""
    corpus.submit(client, "A", 587, "starttls", "alice", "guess", helo="ylmf-pc", want=503)
    return 2


def user(client):
    corpus.submit(client, "A", 587, "starttls", "alice", corpus.PASSWD["alice"], helo="laptop.example",
                  mail=("alice@lab.example", ["bob@lab.example"]), want=235)
    return 0


# (address, what it does, may submit, may authenticate): every attack's
# last session is the one that reaches maxretry, so no session of a banned
# host is cut off half way (but its QUIT may be: the ban is that fast).
PLAN = (
    ("10.99.1.1", guesses(587, "starttls", 3), True, True),
    ("10.99.1.2", guesses(465, "onconnect", 2, "PLAIN"), True, True),
    ("10.99.1.3", unadvertised(3), False, False),
    ("10.99.1.4", refused_submission(2), False, False),
    ("10.99.1.5", refused_auth, True, False),
    ("10.99.1.6", unadvertised(1), False, False),
    ("fd00:99:1:7::a", guesses(587, "starttls", 2), True, True),
    ("fd00:99:1:7::b", guesses(465, "onconnect", 1), True, True),
    ("fd00:99:1:8::a", unadvertised(2), False, False),
    ("10.99.2.1", user, True, True),
)


def reject_copies(journal):
    """How many of the journal's entries are Exim's second copies: at
    priority notice, the message of their process's entry just before at
    priority info (marks of split entries not read: a lower bound)."""
    last = {}
    copies = 0
    for entry in journal:
        pid = text(entry.get("SYSLOG_PID", entry.get("_PID", "")))
        sent = (entry.get("PRIORITY"), text(entry["MESSAGE"]))
        copies += sent[0] == "5" and last.get(pid) == ("6", sent[1])
        last[pid] = sent
    return copies


def nft_set(name):
    """The elements of set inet exim_ban NAME in the machine's kernel, as
    keys."""
    result = subprocess.run(["nft", "-j", "list", "set", "inet", "exim_ban", name], capture_output=True,
                            text=True, timeout=20)
    if result.returncode != 0:
        return set()
    found = set()
    for item in json.loads(result.stdout)["nftables"]:
        for element in item.get("set", {}).get("elem", []):
            value = element["elem"]["val"] if isinstance(element, dict) and "elem" in element else element
            if isinstance(value, dict) and "prefix" in value:
                found.add("%s/%d" % (value["prefix"]["addr"], value["prefix"]["len"]))
            else:
                found.add(key_of(value))  # an IPv6 set holds a /64 as its first address
    return found


def kernel_bans(jail):
    return nft_set(jail + "_v4") | nft_set(jail + "_v6")


class EximJournal:
    def __init__(self, band, banctl, work, say, duplication):
        self.duplication = duplication
        self.banctl = banctl
        self.work = work
        self.say = say
        self.mainlog = os.path.join(work, "A", "log", "mainlog")
        self.exim_pid = None
        os.makedirs(os.path.join(work, "band"))
        self.band = Band(band, os.path.join(work, "band"), [self.mainlog],
                         jail_extra="\n[eximjournal]\nenabled = true\nlogpath = %s\n%sfilter = exim\nmaxretry = %d\n"
                         % (LOGPATH, JAIL_SETTINGS, MAXRETRY))
        self.clients = [corpus.Client(address, "attacker", "", attack, submit_ok=submit, auth_ok=auth)
                        for address, attack, submit, auth in PLAN]

    def run(self):
        self.addresses()
        self.exim_files()
        self.band.start(dry_run=False)
        self.start_exim()
        expected = self.sessions()
        self.stop_exim()
        self.compare(expected)

    def close(self):
        """Ends what run() started and has not ended (on a failure)."""
        if self.band.process is not None:
            self.band.stop(signal.SIGKILL)
        if self.exim_pid is not None:
            self.stop_exim()

    def addresses(self):
        """The server's and every client's address on the machine's
        loopback: all sessions stay inside the machine."""
        for address in (*SERVER.values(), *(c.addr for c in self.clients)):
            subprocess.run(["ip", "addr", "add", address + ("/128" if ":" in address else "/32"), "dev", "lo"],
                           check=True, timeout=10)

    def exim_files(self):
        inst = os.path.join(self.work, "A")
        for name in ("spool", "log", "mail", "../tls"):
            os.makedirs(os.path.join(inst, name), exist_ok=True)
        with open(EXIM_A) as f:
            syslog = SYSLOG + ("" if self.duplication else NO_DUPLICATION)
            config, replaced = re.subn(r"^log_file_path\s*=.*$", lambda _: syslog,
                                       f.read().replace("@LAB@", self.work), flags=re.M)
        check(replaced == 1, "exim-A.conf has one log_file_path")
        self.config = os.path.join(inst, "exim.conf")
        with open(self.config, "w") as f:
            f.write(config)
        with open(os.path.join(self.work, "passwd"), "w") as f:
            f.writelines("%s: %s\n" % pair for pair in corpus.PASSWD.items())
        for name, allowed in (("submission-hosts", lambda c: c.submit_ok), ("auth-hosts", lambda c: c.auth_ok)):
            with open(os.path.join(inst, name), "w") as f:
                f.writelines(c.addr + "\n" for c in self.clients if allowed(c))
        tls = os.path.join(self.work, "tls")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", tls + "/key.pem", "-out", tls + "/cert.pem", "-days", "2",
                        "-subj", "/CN=mx-a.lab.example"], check=True, capture_output=True, timeout=60)
        subprocess.run(["chmod", "-R", "a+rX", self.work], check=True, timeout=10)
        subprocess.run(["chown", "-R", "Debian-exim:Debian-exim", *(os.path.join(inst, d) for d in
                                                                    ("spool", "log", "mail"))],
                       check=True, timeout=10)
        # The machine's own file (a clone's): no other test shares it.
        with open("/etc/exim4/trusted_configs", "a") as f:
            f.write(self.config + "\n")

    def start_exim(self):
        subprocess.run(["exim", "-C", self.config, "-bd", "-q30m"], check=True, timeout=30)
        pid_file = os.path.join(self.work, "A", "exim.pid")
        wait_for("Exim's pid file", lambda: os.path.exists(pid_file) and open(pid_file).read().strip(), timeout=10)
        with open(pid_file) as f:
            self.exim_pid = int(f.read())
        wait_for("Exim listening on 25, 465 and 587", self.listening, timeout=10)
        version = subprocess.run(["exim", "-bV"], capture_output=True, text=True, timeout=10).stdout.split()[2]
        self.say("Exim %s (pid %d) logging to %s and syslog, syslog_duplication = %s"
                 % (version, self.exim_pid, self.mainlog, "true" if self.duplication else "false"))

    @staticmethod
    def listening():
        sockets = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True, timeout=10).stdout
        return all(("%s:%d" % (address if ":" not in address else "[%s]" % address, port)) in sockets
                   for address in SERVER.values() for port in (25, 465, 587))

    def sessions(self):
        """Every client's sessions, the clients at once; returns the hits
        each key must have."""
        done = {}
        errors = []

        def client_run(client):
            try:
                done[client.addr] = client.run(client)
            except Exception as error:  # reported below, with the client's log
                errors.append("%s: %s\n  %s" % (client.addr, error, "\n  ".join(client.log[-6:])))

        threads = [threading.Thread(target=client_run, args=(c,)) for c in self.clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        if errors or any(thread.is_alive() for thread in threads):
            raise Failure("SMTP sessions failed:\n" + "\n".join(errors))
        expected = collections.Counter()
        for address, hits in done.items():
            if hits:
                expected[key_of(address)] += hits
        self.say("%d clients' sessions done: %d hits expected on %d keys"
                 % (len(done), sum(expected.values()), len(expected)))
        return expected

    def stop_exim(self):
        """SIGTERM to the daemon and to the sessions it forked (those a ban
        left waiting for a command): then nothing more is logged."""
        children = subprocess.run(["pgrep", "--parent", str(self.exim_pid)], capture_output=True, text=True,
                                  timeout=10).stdout.split()
        for pid in (self.exim_pid, *map(int, children)):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self.exim_pid = None
        wait_for("Exim's processes to exit",
                 lambda: subprocess.run(["pgrep", "--exact", "exim"], capture_output=True, timeout=10).returncode
                 != 0, timeout=20)

    def offline_counts(self):
        """`exim-banctl test MAINLOG exim --json`'s hits per key."""
        result = subprocess.run([self.banctl, "test", self.mainlog, "exim", "--json"], capture_output=True,
                                text=True, timeout=60)
        if result.returncode != 0:
            raise Failure("exim-banctl test: %s" % result.stderr)
        counts = collections.Counter()
        for host, hits in json.loads(result.stdout)["hosts"].items():
            counts[key_of(host)] += hits
        return counts

    def jail_counts(self, jail):
        return collections.Counter(address for address, _when in self.band.hits(jail))

    def compare(self, expected):
        offline = self.offline_counts()
        check(offline == expected, "exim-banctl test on the mainlog counts %s, the sessions made %s"
              % (dict(offline), dict(expected)))
        for jail in ("exim", "eximjournal"):
            wait_for("jail %s to count what exim-banctl test counts (%d hits)" % (jail, sum(offline.values())),
                     lambda: self.jail_counts(jail) == offline, timeout=30)
        lines = entries()
        copies = reject_copies(lines)
        if self.duplication:
            check(copies > 0, "the journal holds no second copy of a line: is syslog_duplication Exim's default?")
        else:
            check(copies == 0, "with syslog_duplication = false the journal holds %d second copies" % copies)
        with open(self.mainlog) as f:
            mainlog_lines = sum(1 for _ in f)
        want = {key for key, hits in offline.items() if hits >= MAXRETRY}
        offline_banned = {ban[1] for ban in offline_bans(self.banctl, self.band.config, self.mainlog)}
        check(offline_banned == want, "exim-banctl test --bans bans %s, %s reached maxretry"
              % (sorted(offline_banned), sorted(want)))
        stored = {jail: sorted(ban[1] for ban in self.band.bans() if ban[0] == jail)
                  for jail in ("exim", "eximjournal")}
        for jail in ("exim", "eximjournal"):
            check(stored[jail] == sorted(want), "jail %s stored bans %s, want %s" % (jail, stored[jail], sorted(want)))
            try:
                wait_for("jail %s's bans in the kernel" % jail, lambda: kernel_bans(jail) == want, timeout=10)
            except Failure as error:
                raise Failure("%s: %s holds %s" % (error, jail, sorted(kernel_bans(jail)))) from None
        self.say("mainlog %d lines, journal %d entries of SYSLOG_IDENTIFIER=exim (%d of them reject copies); "
                 "hits per key: exim-banctl test "
                 "(mainlog) %d, jail exim (mainlog) %d, jail eximjournal (journal) %d, the sessions %d, on %d keys; "
                 "bans in the kernel: exim %d, eximjournal %d (%s)"
                 % (mainlog_lines, len(lines), copies, sum(offline.values()), sum(self.jail_counts("exim").values()),
                    sum(self.jail_counts("eximjournal").values()), sum(expected.values()), len(offline),
                    len(kernel_bans("exim")), len(kernel_bans("eximjournal")), ", ".join(sorted(want))))
        self.band.stop()


def run(args, work, say, duplication):
    """The part's entry, with Exim's syslog_duplication `duplication`:
    returns the exit status."""
    test = EximJournal(args.band, args.banctl, work, say, duplication)
    try:
        test.run()
    finally:
        test.close()
    say("PASS")
    return 0
