#!/usr/bin/env python3
"""daemon-trust-test.py BAND BANCTL -- trust earned by logging in, on the
real exim-band (dry-run firewall) and a mainlog it follows.

- An honest login (Exim's "<=" line of an authenticated message, account
  alice from 192.0.2.7) makes the key trusted: `exim-banctl trust list`
  shows it, and trust_file lists the address.
- 30 stale-password failures of alice from that key (trust_maxretry 30):
  no ban, no hit; they are excused.
- Restart, then kill -9: the trust and the excused mistakes are read back
  (the 31st mistake of alice counts).
- maxretry (3) failures for another account from that key: banned, and the
  ban drops the key's trust (trust list empty, trust_file empty).
- `exim-banctl trust forget` of another trusted key drops it."""

import datetime
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from command_line import exit_with  # noqa: E402
from failure import check, checks_held  # noqa: E402
from say import sayer  # noqa: E402
from band_harness import Band, wait_for  # noqa: E402

OFFICE = "192.0.2.7"
HOME = "2001:db8:1:2::10"


def stamp():
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def login_line(address, account):
    return ("%s 1xaf2t-0006hW-04 <= %s@lab.example H=(laptop) [%s] P=esmtpsa "
            "X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=login_server:%s S=478 id=1@vm\n"
            % (stamp(), account, address, account))


def failure_for(address, account):
    return ("%s login authenticator failed for (laptop) [%s]: 535 Incorrect authentication "
            "data (set_id=%s)\n" % (stamp(), address, account))


def main():
    band_binary, banctl = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="exim-band-trust-") as tmp:
        log = os.path.join(tmp, "mainlog")
        trust_file = os.path.join(tmp, "trusted-hosts")
        open(log, "w").close()
        band = Band(band_binary, tmp, [log], extra="trust_file = %s\n" % trust_file,
                    jail_extra="trust_maxretry = 30\n")

        def append(text):
            with open(log, "a") as f:
                f.write(text)

        def trusted():
            run = subprocess.run([banctl, "trust", "list", "--json", "--config", band.config],
                                 capture_output=True, text=True, timeout=30)
            check(run.returncode == 0, "trust list: %d %s" % (run.returncode, run.stderr))
            return [(e["key"], e["account"]) for e in json.loads(run.stdout)["trust"]]

        def listed():
            try:
                with open(trust_file) as f:
                    return f.read()
            except FileNotFoundError:
                return None

        def stored_mistakes():
            with band.reader() as db:
                return db.execute("SELECT count(*) FROM trust_mistakes").fetchone()[0]

        band.start()
        append(login_line(OFFICE, "alice") + login_line(HOME, "bob"))
        wait_for("alice's and bob's trust", lambda: len(trusted()) == 2)
        check(trusted() == [(OFFICE, "alice"), ("2001:db8:1:2::/64", "bob")], "trust list: %r" % trusted())
        wait_for("trust_file", lambda: listed() == '%s\n"2001:db8:1:2::/64"\n' % OFFICE, timeout=5)
        run = subprocess.run([banctl, "trust", "list", "--config", band.config],
                             capture_output=True, text=True, timeout=30)
        check(run.returncode == 0 and "alice" in run.stdout and "ACCOUNT" in run.stdout,
              "trust list as a table: %r" % run.stdout)

        append(failure_for(OFFICE, "alice") * 30)
        wait_for("30 excused mistakes stored", lambda: stored_mistakes() == 30)
        check(band.bans() == [] and band.hit_count() == 0, "a known user's stale password: no ban, no hit")

        band.stop()
        band.start()
        check(trusted() == [(OFFICE, "alice"), ("2001:db8:1:2::/64", "bob")],
              "trust after a restart: %r" % trusted())
        band.kill()
        band.start()
        check(len(trusted()) == 2, "trust after kill -9: %r" % trusted())
        # The window of excused mistakes came back too: the 31st counts.
        append(failure_for(OFFICE, "alice"))
        wait_for("the 31st mistake counted as a hit", lambda: band.hit_count() == 1)

        append(failure_for(OFFICE, "mallory") * 3)
        wait_for("a ban of the key", lambda: band.bans())
        check([b[1] for b in band.bans()] == [OFFICE], "the ban: %r" % band.bans())
        wait_for("the ban to drop the key's trust", lambda: trusted() == [("2001:db8:1:2::/64", "bob")])
        wait_for("trust_file without it", lambda: listed() == '"2001:db8:1:2::/64"\n', timeout=5)

        run = subprocess.run([banctl, "trust", "forget", HOME, "--config", band.config],
                             capture_output=True, text=True, timeout=30)
        check(run.returncode == 0 and "forgot 1" in run.stdout, "trust forget: %r" % (run,))
        check(trusted() == [], "trust list after forget: %r" % trusted())
        wait_for("an empty trust_file", lambda: listed() == "", timeout=5)
        check(band.stop() == 0, "SIGTERM exits 0")
    print("daemon-trust-test: PASS (%d checks)" % checks_held())
    return 0


if __name__ == "__main__":
    exit_with(main, sayer("daemon-trust-test"))
