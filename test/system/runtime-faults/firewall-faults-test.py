#!/usr/bin/env python3
"""firewall-faults-test.py BAND BANCTL SHIM -- nf_tables refuses while the real
exim-band (nftables backend, in a network namespace of the test's own)
bans attackers from its log.

(a) Refusals made in the kernel from outside: `nft delete table inet
    exim_ban`, then the chain flushed and set exim_v4 deleted. The next
    attack's ban is refused (no such table or set); the daemon makes the
    table again, logs it, counts it, and reconciles: every ban of the store,
    the earlier ones too, is back in the kernel.
(b) Refusals from the process's side: SHIM (netlink_fault_shim.so, by
    LD_PRELOAD) fails every netfilter netlink send and receive while a
    control file exists (ENOBUFS, then EPERM). Attacks meanwhile are stored
    and counted, not enforced; the daemon stays up and logs the failure
    once. After the file is removed every ban reaches the kernel within the
    reconcile bound (printed).
(c) Bans lost with no call failing: set exim_v4 flushed by hand. The
    daemon's audit (every 30 s) puts them back and logs it once.
At the end the kernel holds exactly the store's bans: none lost.

The test re-runs itself under `unshare -n`; needs root and nft, else 77."""

import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from command_line import start  # noqa: E402
from failure import Failure  # noqa: E402
from say import sayer  # noqa: E402
from band_harness import Band, benign_line, failure_line, key_of, wait_for  # noqa: E402

# daemon/pipeline/ban_pipeline.cpp: longest_reconcile_wait, the longest
# wait between two reconciles while the firewall fails; the rest is room for
# the reconcile itself on a loaded machine.
RECONCILE_BOUND_S = 2.0 + 1.5
FAILING = "firewall: bans are stored but not all in the kernel"
# daemon/band/band_service.cpp: firewall_audit_every.
AUDIT_EVERY_S = 30
AUDIT_REPAIR = "firewall: the kernel's sets were changed outside exim-band"


say = sayer("firewall-faults-test")


def nft(*args):
    run = subprocess.run(["nft", *args], capture_output=True, text=True, timeout=10)
    if run.returncode != 0:
        raise Failure("nft %s: %s" % (" ".join(args), run.stderr.strip()))
    return run.stdout


def kernel_keys():
    """The ban keys the kernel holds now (IPv6 as the /64)."""
    keys = set()
    for family, suffix in (("v4", ""), ("v6", "/64")):
        run = subprocess.run(["nft", "-j", "list", "set", "inet", "exim_ban", "exim_" + family],
                             capture_output=True, text=True, timeout=10)
        if run.returncode != 0:
            continue  # no table or set (deleted by the test, not yet made again)
        for entry in json.loads(run.stdout)["nftables"]:
            for element in entry.get("set", {}).get("elem", []):
                value = element.get("elem", {}).get("val") if isinstance(element, dict) else element
                if isinstance(value, str):
                    keys.add(value + suffix)
    return keys


class Test:
    def __init__(self, band_binary, banctl, shim, tmp):
        self.banctl_binary = banctl
        self.fault_file = os.path.join(tmp, "netlink-fault")
        os.mkdir(os.path.join(tmp, "log"))
        self.mainlog = os.path.join(tmp, "log", "mainlog")
        open(self.mainlog, "w").close()
        self.band = Band(band_binary, tmp, [self.mainlog])
        self.env = dict(os.environ, LD_PRELOAD=shim, EXIM_BAN_NETLINK_FAULT=self.fault_file)
        # The sanitizer build: the shim comes before the ASan runtime.
        self.env["ASAN_OPTIONS"] = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                          "verify_asan_link_order=0"]))
        self.attackers = []
        self.figures = {}

    def stats(self):
        run = subprocess.run([self.banctl_binary, "stats", "--json", "--config", self.band.config],
                             capture_output=True, text=True, timeout=30)
        if run.returncode != 0:
            raise Failure("exim-banctl stats: %s" % run.stderr.strip())
        return json.loads(run.stdout)

    def attack(self):
        """A new attacker's three failures; returns its key."""
        n = len(self.attackers) + 1
        address = "198.51.100.%d" % n if n % 4 else "2001:db8:%x::7" % n
        with open(self.mainlog, "a") as log:
            log.write(failure_line(address) * 3 + benign_line(n))
        self.attackers.append(key_of(address))
        return self.attackers[-1]

    def stored_keys(self):
        return {key for _jail, key, _start, _duration in self.band.bans()}

    def wait_kernel_holds_all(self, what, timeout=10):
        """Seconds until the kernel holds every attacker's ban."""
        started = time.monotonic()
        wait_for("%s: the kernel to hold all %d bans" % (what, len(self.attackers)),
                 lambda: set(self.attackers) <= kernel_keys(), timeout=timeout, interval=0.02)
        return time.monotonic() - started

    def hand_deletion(self, what, *commands):
        """Something deleted by hand, then one attack: all bans come back."""
        before = self.band.log().count("was changed by hand")
        errors = self.stats()["firewall_errors"]
        for command in commands:
            nft(*command)
        if set(self.attackers) <= kernel_keys():
            raise Failure("%s: the kernel still holds every ban" % what)
        self.attack()
        seconds = self.wait_kernel_holds_all(what)
        if self.band.log().count("was changed by hand") != before + 1:
            raise Failure("%s: the daemon does not log the repair once" % what)
        if self.stats()["firewall_errors"] <= errors:
            raise Failure("%s: not counted in stats" % what)
        self.figures[what] = seconds

    def run(self):
        self.band.start(env=self.env, dry_run=False)
        for _ in range(5):
            self.attack()
        self.wait_kernel_holds_all("start")

        # (a) the kernel's own refusals.
        self.hand_deletion("table deleted", ("delete", "table", "inet", "exim_ban"))
        self.hand_deletion("set deleted", ("flush", "chain", "inet", "exim_ban", "input"),
                           ("delete", "set", "inet", "exim_ban", "exim_v4"))

        # (b) netlink failing in the process.
        failing_before = self.band.log().count(FAILING)
        before = self.stats()
        with open(self.fault_file, "w") as f:
            f.write("ENOBUFS\n")
        faulted = [self.attack() for _ in range(3)]
        wait_for("the bans made in the fault stored", lambda: set(faulted) <= self.stored_keys())
        wait_for("the firewall failure logged", lambda: self.band.log().count(FAILING) > failing_before)
        with open(self.fault_file, "w") as f:
            f.write("EPERM\n")
        faulted += [self.attack() for _ in range(3)]
        wait_for("the bans made in the fault stored", lambda: set(faulted) <= self.stored_keys())
        during = self.stats()
        # Let reconciles fail for a while: the retries must not flood the log.
        wait_for("3 failed reconciles", lambda: self.stats()["reconciles"] >= during["reconciles"] + 3)
        if set(faulted) & kernel_keys():
            raise Failure("a ban reached the kernel through the fault")
        if self.band.process.poll() is not None:
            raise Failure("the daemon died in the fault")
        in_fault = self.stats()
        if self.band.log().count(FAILING) != failing_before + 1:
            raise Failure("the failure is not logged once (%d times)" % (self.band.log().count(FAILING)
                                                                         - failing_before))
        errors = in_fault["firewall_errors"] - before["firewall_errors"]
        if errors < 3:
            raise Failure("only %d firewall errors counted in the fault" % errors)
        os.unlink(self.fault_file)
        recovered = self.wait_kernel_holds_all("after the fault", timeout=RECONCILE_BOUND_S + 5)
        if recovered > RECONCILE_BOUND_S:
            raise Failure("the bans reached the kernel %.2f s after the fault ended (bound %.1f s)"
                          % (recovered, RECONCILE_BOUND_S))
        wait_for("the recovery logged", lambda: "firewall: reconciled after" in self.band.log())
        self.figures["fault"] = (errors, in_fault["reconciles"] - before["reconciles"], recovered)

        # (c) bans lost without any call failing: the set emptied by hand.
        # The daemon's audit (every AUDIT_EVERY_S) puts them back.
        audits_before = self.band.log().count(AUDIT_REPAIR)
        nft("flush", "set", "inet", "exim_ban", "exim_v4")
        if set(self.attackers) <= kernel_keys():
            raise Failure("set flushed: the kernel still holds every ban")
        self.figures["set flushed"] = self.wait_kernel_holds_all("set flushed",
                                                                 timeout=AUDIT_EVERY_S + 5)
        if self.band.log().count(AUDIT_REPAIR) != audits_before + 1:
            raise Failure("set flushed: the repair is not logged once")

        # Nothing lost: the kernel holds exactly the store's bans.
        stored = self.stored_keys()
        held = kernel_keys()
        if stored != held or stored != set(self.attackers):
            raise Failure("store %d bans, kernel %d, attackers %d; missing in the kernel: %s"
                          % (len(stored), len(held), len(set(self.attackers)), sorted(stored - held)[:5]))
        self.band.stop()

    def summary(self):
        errors, reconciles, recovered = self.figures.get("fault", (0, 0, 0))
        return ("%d attackers, %d bans in store and kernel, lost 0; table deleted: all back in %.0f ms; "
                "set deleted: all back in %.0f ms; netlink fault: %d errors counted, %d reconciles, "
                "failure logged once, bans in the kernel %.0f ms after it ended (bound %.0f ms); "
                "set flushed by hand: all back by the audit in %.1f s (bound %d s)"
                % (len(self.attackers), len(set(self.attackers)), self.figures.get("table deleted", 0) * 1000,
                   self.figures.get("set deleted", 0) * 1000, errors, reconciles, recovered * 1000,
                   RECONCILE_BOUND_S * 1000, self.figures.get("set flushed", 0), AUDIT_EVERY_S))


def main():
    # nft (the nftables package) changes and reads the table
    status = start(4, __doc__, say, tools=("nft",), netns=True)
    if status is not None:
        return status
    band_binary, banctl, shim = (os.path.abspath(a) for a in sys.argv[1:])
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="exim-band-fwfault-") as tmp:
        test = Test(band_binary, banctl, shim, tmp)
        try:
            test.run()
        except Failure as error:
            say("FAIL: %s\nso far: %s\n--- exim-band's log (end) ---\n%s"
                % (error, test.summary(), test.band.log()[-4000:]))
            return 1
        finally:
            if test.band.process is not None:
                test.band.kill()
    say("PASS in %.1f s: %s" % (time.monotonic() - started, test.summary()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
