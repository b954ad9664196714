"""Step 5 of the run: the exim-banctl commands that talk to the daemon's
control socket."""

import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from failure import Failure  # noqa: E402
from plan import BANTIME, PORTS, SRV_BOT, key_of  # noqa: E402
from progress import say, step  # noqa: E402


BANCTL_COMMANDS = ("list", "show", "unban", "stats")


def banctl_checks(t):
    """exim-banctl list/show/stats --prometheus/unban against the running
    daemon, through its control socket. Skipped, and said so, while
    exim-banctl lacks these commands; nothing else in the test depends on
    them."""
    p = subprocess.run([t.banctl, "--help"], capture_output=True, text=True, timeout=30)
    help_text = p.stdout + p.stderr
    for cmd in BANCTL_COMMANDS:
        if not re.search(r"^\s+%s\b" % re.escape(cmd), help_text, re.M):
            say("banctl checks: not yet available (exim-banctl has no '%s')" % cmd)
            return

    def banctl(*argv):
        q = subprocess.run([t.banctl, *argv, "--config", t.daemon.config], capture_output=True, text=True,
                           timeout=30)
        if q.returncode != 0:
            raise Failure("exim-banctl %s exited %d: %s%s" % (" ".join(argv), q.returncode, q.stdout[-1000:],
                                                              q.stderr[-1000:]))
        return q.stdout

    def banctl_json(*argv):
        out = banctl(*argv, "--json")
        try:
            return json.loads(out)
        except ValueError:
            raise Failure("exim-banctl %s --json printed no JSON:\n%s" % (" ".join(argv), out[-2000:]))

    def listed():
        return {key_of(b["key"].split("/")[0]): b for b in banctl_json("list").get("bans", [])}

    # list: exactly the bans made, with the hits the mainlog shows and the
    # packets the kernel dropped
    bans = listed()
    want = {i.key for i, _ in t.bans} - t.unbanned
    if set(bans) != want:
        raise Failure("exim-banctl list shows %s that were not banned and lacks %s"
                      % (sorted(set(bans) - want), sorted(want - set(bans))))
    kernel = t.nft_list()
    for key, b in bans.items():
        if b.get("jail") != "exim" or b.get("hits") != t.log.key_hits(key) or not 0 < b.get("remaining_s", 0) <= BANTIME:
            raise Failure("exim-banctl list: %s, the mainlog shows %d hits" % (json.dumps(b), t.log.key_hits(key)))
        # read before nft-list: a cut session's retransmissions may still be counted in between
        if not 0 <= b.get("packets", -1) <= kernel[key]["packets"] or (key == t.main[0].key and not b["packets"]):
            raise Failure("exim-banctl list: %s, nft-list: %s" % (json.dumps(b), json.dumps(kernel[key])))
    # show: an address of a banned /64 names the /64 and its active ban
    v4, v6 = t.main[0], t.main[5]
    shown = banctl_json("show", v6.addrs[1])
    keys = shown.get("keys") or [{}]
    if keys[0].get("key", "").split("/")[0] != v6.key or not any(b.get("lifted") is None for b in keys[0].get("bans", [])):
        raise Failure("exim-banctl show %s --json: %s" % (v6.addrs[1], json.dumps(shown)[:2000]))
    # stats: the text exposition format, and counts that agree with this run
    # since the restart of step 4
    stats = banctl("stats", "--prometheus")
    samples = {}
    for ln in stats.splitlines():
        if ln and not ln.startswith("#"):
            m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) ([-+0-9.eE]+|[-+]?Inf|NaN)$", ln)
            if not m:
                raise Failure("exim-banctl stats --prometheus: not the text exposition format: %r" % ln)
            samples[m.group(1)] = float(m.group(2))
    buckets = sorted((float(m.group(1)), v) for k, v in samples.items()
                     for m in [re.match(r'^exim_ban_batch_latency_seconds_bucket\{le="([0-9.e+-]+)"\}$', k)] if m)
    if buckets:
        prev, parts = 0, []
        for le, cum in buckets:
            if cum > prev:
                parts.append("<=%g ms: %d" % (le * 1000, cum - prev))
            prev = cum
        n = samples.get("exim_ban_batch_latency_seconds_count", 0)
        t.notes.append("exim-band's own commit-to-kernel time per batch since the restart (n=%d, %s)"
                       % (n, ", ".join(parts) + (", more: %d" % (n - prev) if n > prev else "")))
    expect = {"exim_ban_bans_total": len(t.bans) - t.bans_before_restart,
              "exim_ban_hits_total": t.log.hits_total - t.hits_before_restart}
    for name, value in expect.items():
        if samples.get(name) != value:
            raise Failure("exim-banctl stats --prometheus: %s is %s, this run made %d since the restart"
                          % (name, samples.get(name), value))
    # unban an IPv4 key and an IPv6 /64 (by its other address): the elements
    # leave the kernel, the bot connects again, list no longer shows them
    banctl("unban", v4.addrs[0])
    banctl("unban", v6.addrs[1])
    deadline = time.monotonic() + 10
    while True:
        kernel = t.nft_list()
        if v4.key not in kernel and v6.key not in kernel:
            break
        if time.monotonic() > deadline:
            raise Failure("10 s after exim-banctl unban the kernel still holds %s or %s" % (v4.key, v6.key))
        time.sleep(0.02)
    t.unbanned |= {v4.key, v6.key}
    specs = ["%s,%s,%d" % (a, SRV_BOT[i.family], port) for i in (v4, v6) for a in i.addrs for port in PORTS]
    res = t.probe(t.args["ns_bot"], specs)
    bad = {s: r for s, r in res.items() if not r.startswith("connected 220")}
    if bad:
        raise Failure("after exim-banctl unban the bot still cannot connect: %s" % bad)
    left = set(listed()) & t.unbanned
    if left:
        raise Failure("exim-banctl list still shows %s after unban" % sorted(left))
    shown = banctl_json("show", v4.addrs[0])
    if any(b.get("lifted") is None for k in shown.get("keys", []) for b in k.get("bans", [])):
        raise Failure("exim-banctl show %s: a ban not lifted after unban: %s" % (v4.addrs[0], json.dumps(shown)[:2000]))
    unbans = re.search(r"^exim_ban_unbans_total (\S+)$", banctl("stats", "--prometheus"), re.M)
    if not unbans or float(unbans.group(1)) != 2:
        raise Failure("exim-banctl stats --prometheus: exim_ban_unbans_total %s after 2 unbans"
                      % (unbans and unbans.group(1)))
    t.user_submit("step 5")
    step("step 5: banctl checks: list (%d bans, hits and packets as observed), show, stats --prometheus "
        "(bans and hits since the restart), unban %s and %s (by %s): out of the kernel, the bot connects again"
        % (len(bans), v4.key, v6.key + "/64", v6.addrs[1]))
