#!/usr/bin/python3
"""scan-bench: offline scan speed of `exim-banctl test` beside fail2ban-regex.

Generates a realistic Exim mainlog (or reuses one), runs
`exim-banctl test LOG exim --json` and Debian's
`fail2ban-regex LOG /etc/fail2ban/filter.d/exim.conf` on it, each pinned to one
core, and prints lines/s, the ratio, exim-banctl's peak RSS and both match
counts. See test/bench/README.md.
"""

import argparse
import hashlib
import ipaddress
import itertools
import json
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from bisect import bisect_right
from heapq import heappop, heappush

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "test", "system", "support"))
from failure import Failure  # noqa: E402
from say import sayer  # noqa: E402

# Targets from DESIGN.md, section Targets.
TARGET_LPS = 4_000_000
TARGET_RATIO = 75
GOAL_RATIO = 100
TARGET_RSS_MB = 32
RSS_TARGET_LINES = 10_000_000

CHUNK = 100_000          # lines per generation chunk; fixed so output does not depend on --jobs
START = 1709251200       # 2024-03-01 00:00:00, written as local time (no offset)
SERVER_V4 = "203.0.113.25"
SERVER_V6 = "2001:db8:25::25"
HOSTNAME = "mx.example.net"
LOCAL_DOMAIN = "example.net"

# Share of traffic per hour of day (mean 1): mail peaks in office hours.
DIURNAL = [0.35, 0.30, 0.28, 0.28, 0.30, 0.40, 0.60, 0.90, 1.20, 1.40, 1.50, 1.50,
           1.40, 1.40, 1.45, 1.45, 1.40, 1.30, 1.10, 0.95, 0.80, 0.70, 0.55, 0.45]
_m = sum(DIURNAL) / 24
DIURNAL = [w / _m for w in DIURNAL]
DIURNAL_CUM = [0.0]
for _w in DIURNAL:
    DIURNAL_CUM.append(DIURNAL_CUM[-1] + _w * 3600)

# Line kinds. ATTACK kinds are the authentication-abuse shapes that the exim
# filter counts in mode normal (DESIGN.md, Filters; the same split as
# test/system/exim-corpus/corpus.py's NORMAL); "attack lines" means these.
# The other kinds are what a busy MX/submission host writes besides, some of
# which mode more (and Debian's fail2ban filter) count too.
ATTACK_KINDS = ["auth535", "notadv", "authmech", "rejauth", "nixed", "submission", "deferred",
                "blacklisted"]
OTHER_KINDS = ["dropped", "dropacl", "nomail", "rejrcpt", "verifyfail", "syncerror", "conn", "close",
               "lost", "authaccepted", "arrival", "delivery", "completed", "defer", "bounce",
               "tlserror", "queuerun", "ehlo"]
KINDS = ATTACK_KINDS + OTHER_KINDS
KIND_ID = {k: i for i, k in enumerate(KINDS)}
N_ATTACK_KINDS = len(ATTACK_KINDS)

# Every line is "{ts}{pfx} " + body. {pfx} is "" (Debian's default
# log_selector) or " [pid]" (+pid); {peer} is "[ip]" or "[ip]:port I=[ip]:port"
# (+incoming_port +incoming_interface); {tlsinfo} is "" or " X=... CV=no SNI=..."
# on a TLS connection. Bodies follow Exim 4.96 as test/data/exim-corpus/4.96 shows it.
BUILTIN = {
    # --- attack shapes (mode normal) ----------------------------------------
    "auth535": [
        "{auth} authenticator failed for ({helo}) {peer}: 535 Incorrect authentication data (set_id={user})",
        "{auth} authenticator failed for ({helo}) {peer}: 535 Incorrect authentication data (set_id={user})",
        "{auth} authenticator failed for ({helo}) {peer}: 535 Incorrect authentication data",
        "{auth} authenticator failed for {peer}: 535 Incorrect authentication data (set_id={user})",
    ],
    "notadv": ['SMTP protocol error in "{authcmd}" H=({helo}) {peer} AUTH command used when not advertised'],
    "authmech": ['SMTP protocol error in "AUTH {mech}" H=({helo}) {peer} {mech} authentication mechanism not supported'],
    "rejauth_acl": ["H=({helo}) {peer}{tlsinfo} rejected AUTH {mech}: AUTH not accepted"],
    "rejauth_tls": ["H=({helo}) {peer} rejected AUTH {mech}: SSL or TLS encryption required when authenticating"],
    "nixed_auth": ["AUTH nixed: {ip} {sport} esmtps {helo}"],
    "nixed_connect": ["AUTH nixed {ip} {sport} connect"],
    "submission": ['H={peer}{tlsinfo} temporarily rejected connection in "connect" ACL: Submission not permitted on {sport}'],
    "deferred": ['H={peer}{tlsinfo} temporarily rejected connection in "connect" ACL: Sender deferred {rate} / 1m'],
    "blacklisted": ['H={peer}{tlsinfo} rejected connection in "connect" ACL: Blacklisted: Denied access - history of unwanted activity'],
    # --- mode more / fail2ban shapes ----------------------------------------
    "dropped_synprot": ['SMTP call from ({helo}) {peer} dropped: too many syntax or protocol errors (last command was "{authcmd}",  C=EHLO,AUTH,AUTH,AUTH)'],
    "dropped_junk": [
        'SMTP call from ({helo}) {peer} dropped: too many nonmail commands (last was "NOOP")',
        'SMTP call from ({helo}) {peer} dropped: too many unrecognized commands (last was "PASS toor")',
    ],
    "dropacl": ["SMTP connection from ({helo}) {peer} closed by DROP in ACL"],
    "nomail": ["no MAIL in SMTP connection from {hname}{peer} D={dur}{tlsinfo}{cmds}"],
    "rejrcpt": [
        "H={hname}{peer} F=<{sender}> rejected RCPT <{badrcpt}>: Unrouteable address",
        "H={hname}{peer} F=<{sender}> rejected RCPT <{badrcpt}>: relay not permitted",
        "H={hname}{peer} F=<{sender}> rejected RCPT <{badrcpt}>: JunkMail rejected - {ip} is listed at zen.spamhaus.org",
    ],
    "verifyfail": ["H={hname}{peer} sender verify fail for <{sender}>: Unrouteable address"],
    "syncerror": ['SMTP protocol synchronization error (input sent without waiting for greeting): rejected connection from H={peer} input="GET / HTTP/1.1\\r\\nHost: ' + "mx" + '\\r\\n\\r\\n"'],
    # --- benign traffic -----------------------------------------------------
    "conn": ["SMTP connection from {peer} (TCP/IP connection count = {cc})"],
    "close": ["SMTP connection from {hname}{peer} closed by QUIT"],
    "lost": [
        "SMTP connection from {hname}{peer} lost",
        "unexpected disconnection while reading SMTP command from {hname}{peer} D={dur}",
        "SMTP command timeout on connection from {hname}{peer}",
    ],
    "authaccepted": ["AUTH accepted {ip} {sport} esmtps"],
    "arrival_tls": ["{mid} <= {sender} H={hname}{peer} P=esmtps X={tls} CV=no SNI=" + "{sni} S={size} id={msgid}"],
    "arrival_plain": ["{mid} <= {sender} H={hname}{peer} P=esmtp S={size} id={msgid}"],
    "arrival_auth": ["{mid} <= {sender} H=({helo}) {peer} P=esmtpsa X={tls} CV=no SNI={sni} A={auth}:{user} S={size} id={msgid}"],
    "arrival_local": ["{mid} <= {sender} U={luser} P=local S={size}"],
    "arrival_bounce": ["{mid} <= <> R={mid2} U=Debian-exim P=local S={size}"],
    "deliv_local": ["{mid} => {lpart} <{rcpt}> R=local_user T=maildir_home"],
    "deliv_local_more": ["{mid} -> {lpart} <{rcpt}> R=local_user T=maildir_home"],
    "deliv_remote": ['{mid} => {rcpt} R=dnslookup T=remote_smtp H={mxname} {mxpeer} X={tlsout} CV=yes DN="CN={mxname}" C="250 2.0.0 OK id={mid3}"'],
    "completed": ["{mid} Completed"],
    "defer": ["{mid} == {rcpt} R=dnslookup T=remote_smtp defer (-45) H={mxname} {mxpeer}: SMTP error from remote mail server after RCPT TO:<{rcpt}>: 451 4.7.1 Greylisted, please try again later"],
    "bounce": ["{mid} ** {rcpt} R=dnslookup T=remote_smtp H={mxname} {mxpeer}: SMTP error from remote mail server after RCPT TO:<{rcpt}>: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown"],
    "tlserror": ["TLS error on connection from {hname}{peer} ({tlsop}): {tlsmsg}"],
    "queuerun_start": ["Start queue run: pid={qpid}"],
    "queuerun_end": ["End queue run: pid={qpid}"],
    "ehlo": ["rejected EHLO from {peer}: syntactically invalid argument(s): {junkhelo}"],
}
# Template group -> line kind.
GROUP_KIND = {g: g for g in BUILTIN}
GROUP_KIND.update({
    "rejauth_acl": "rejauth", "rejauth_tls": "rejauth", "nixed_auth": "nixed",
    "nixed_connect": "nixed", "dropped_synprot": "dropped", "dropped_junk": "dropped",
    "arrival_tls": "arrival", "arrival_plain": "arrival", "arrival_auth": "arrival",
    "arrival_local": "arrival", "arrival_bounce": "arrival", "deliv_local": "delivery",
    "deliv_local_more": "delivery", "deliv_remote": "delivery",
    "queuerun_start": "queuerun", "queuerun_end": "queuerun",
})

# --- real Exim lines as templates ------------------------------------------
# Each attack group as recognised in a captured mainlog (timestamp and pid
# cut), and the text that follows the real client host: the host is the
# bracketed address right before it (TLS fields aside), so client-supplied
# text elsewhere in the line cannot move it.
CORPUS_GROUPS = [
    ("auth535", re.compile(r"^\w+ authenticator failed for .*: 535 Incorrect authentication data"), re.compile(r": 535 ")),
    ("notadv", re.compile(r'^SMTP protocol error in ".* AUTH command used when not advertised$'),
     re.compile(r" AUTH command used when not advertised$")),
    ("authmech", re.compile(r'^SMTP protocol error in ".* authentication mechanism not supported$'),
     re.compile(r" \S+ authentication mechanism not supported$")),
    ("rejauth_tls", re.compile(r" rejected AUTH .*: SSL or TLS encryption required when authenticating$"),
     re.compile(r" rejected AUTH ")),
    ("rejauth_acl", re.compile(r" rejected AUTH .*: AUTH not (?:accepted|permitted)$"), re.compile(r" rejected AUTH ")),
    ("nixed_connect", re.compile(r"^AUTH nixed \S+ \d+ connect"), None),
    ("nixed_auth", re.compile(r"^AUTH nixed: "), None),
    ("submission", re.compile(r'rejected connection in "connect" ACL: Submission not permitted'),
     re.compile(r" temporarily rejected connection")),
    ("deferred", re.compile(r'rejected connection in "connect" ACL: Sender deferred'),
     re.compile(r" temporarily rejected connection")),
    ("blacklisted", re.compile(r'rejected connection in "connect" ACL: Blacklisted'), re.compile(r" rejected connection")),
    ("dropped_synprot", re.compile(r"^SMTP call from .* dropped: too many syntax or protocol errors"),
     re.compile(r" dropped: too many")),
    ("dropped_junk", re.compile(r"^SMTP call from .* dropped: too many (?:nonmail|unrecognized) commands"),
     re.compile(r" dropped: too many")),
    ("dropacl", re.compile(r"^SMTP connection from .* closed by DROP in ACL$"), re.compile(r" closed by DROP in ACL$")),
]
IP_RE = r"(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})"
PEER_RE = re.compile(r"\[(" + IP_RE + r")\](?::\d+)?(?: I=\[" + IP_RE + r"\]:\d+)?")
TLSINFO_RE = re.compile(r" X=\S+ CV=\w+(?: SNI=\S+)?$")
TS_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?: [-+]\d{4})? ")
PID_RE = re.compile(r"^\[\d+\] ")
# Addresses left in a template after the client's are text the attacker sent
# ("victims"); the lab's become documentation addresses.
LAB_V4 = re.compile(r"(?<![\w.:])10\.99\.(\d+)\.(\d+)(?![\w.:])")
LAB_V6 = re.compile(r"(?<![0-9a-fA-F])fd00:99:")
LEFT_IP = re.compile(r"(?<![\w.{])(?:\d+\.\d+\.\d+\.\d+|[0-9a-f]{1,4}:[0-9a-f:]*:[0-9a-f]{0,4})(?![\w.:}])")


def templatize(body, group, anchor):
    """One captured line body -> a template of `group`, or None."""
    body = body.replace("{", "{{").replace("}", "}}")
    body = body.replace("mx.lab.example", HOSTNAME).replace("lab.example", LOCAL_DOMAIN)
    if group.startswith("nixed"):
        m = re.match(r"^(AUTH nixed:? )(" + IP_RE + r") (\d+)(.*)$", body)
        if not m:
            return None
        rest = m.group(4)
        if group == "nixed_auth":
            rest = re.sub(r" [\w.-]+$", " {helo}", rest)
        return m.group(1) + "{ip} {sport}" + rest
    am = anchor.search(body)
    if not am:
        return None
    at = am.start()
    head = body[:at]
    tls = TLSINFO_RE.search(head)
    peer_end = tls.start() if tls else at
    last = None
    for m in PEER_RE.finditer(body, 0, peer_end):
        if m.end() == peer_end:
            last = m
    if last is None:
        return None
    ip = last.group(1)
    head, tail = body[:last.start()], body[at:]
    ipre = re.compile(r"(?<![\w.:])" + re.escape(ip) + r"(?![\w.:])")
    head, tail = ipre.sub("{ip}", head), ipre.sub("{ip}", tail)
    head = re.sub(r"(H=|failed for |SMTP call from |SMTP connection from )\([\w.-]+\) ", r"\1({helo}) ", head)
    tail = re.sub(r"\(set_id=[\w.@+-]*\)$", "(set_id={user})", tail)
    tail = re.sub(r"Submission not permitted on \d+", "Submission not permitted on {sport}", tail)
    tail = re.sub(r"Sender deferred [\d.]+ / ", "Sender deferred {rate} / ", tail)
    text = head + "{peer}" + ("{tlsinfo}" if tls else "") + tail
    text = LAB_V4.sub(lambda m: "203.0.113.%d" % (100 + int(m.group(2)) % 100), text)
    return LAB_V6.sub("2001:db8:99:", text)


def load_corpus(paths):
    """Attack templates from captured mainlogs: {group: [(template, weight), ...]}.

    A template's weight is how often its shape occurs; one that still names
    an address (text an attacker forged) is kept rare, as in real logs."""
    found = {}
    for path in paths:
        try:
            with open(path, encoding="latin-1") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for line in lines:
            m = TS_RE.match(line)
            if not m:
                continue
            body = PID_RE.sub("", line[m.end():], count=1)
            for group, rx, anchor in CORPUS_GROUPS:
                if rx.search(body):
                    t = templatize(body, group, anchor)
                    if t:
                        g = found.setdefault(group, {})
                        g[t] = g.get(t, 0) + 1
                    break
    out = {}
    for group, tpls in found.items():
        out[group] = [(t, n * (0.02 if LEFT_IP.search(t.replace("{ip}", "")) else 1.0)) for t, n in tpls.items()]
    return out


_FIELD = re.compile(r"\{(\w+)\}")


def compile_template(body):
    """"{ts}{pfx} " + body -> a function of the session dict S returning the line."""
    text = "{ts}{pfx} " + body + "\n"
    parts = re.split(r"(\{\{|\}\}|\{\w+\})", text)
    fmt, names = [], []
    for p in parts:
        if p == "{{":
            fmt.append("{")
        elif p == "}}":
            fmt.append("}")
        elif _FIELD.fullmatch(p):
            fmt.append("%s")
            names.append(p[1:-1])
        else:
            fmt.append(p.replace("%", "%%"))
    src = "lambda S: %r %% (%s)" % ("".join(fmt), "".join("S[%r], " % n for n in names))
    return eval(src)  # noqa: S307 -- source built above from escaped literals


# --- populations -------------------------------------------------------------
WORDS = ("amber birch cedar delta ember fjord grove harbor iris juniper kestrel "
         "lumen maple nimbus orchid pepper quartz raven sierra tundra umber "
         "violet willow xenon yarrow zephyr atlas beacon cobalt dune").split()
FIRST = ("alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia "
         "peggy rupert sybil trent victor walter yvonne zoe anna ben chris dana").split()
ATTACK_USERS = ("admin info test user webmaster support sales postmaster contact office "
                "mail root marketing billing hr noreply scanner backup demo guest").split()
HELOS_BOT = ["ylmf-pc", "User", "USER", "WIN-{r}", "DESKTOP-{r}", "{rl}", "{rl}", "localhost", "[{ip}]", "EHLO"]
TLS_IN = ["TLS1.3:ECDHE_X25519__ECDSA_SECP256R1_SHA256__AES_256_GCM:256",
          "TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256",
          "TLS1.3:ECDHE_SECP256R1__RSA_PSS_RSAE_SHA256__AES_256_GCM:256",
          "TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__CHACHA20_POLY1305:256",
          "TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256",
          "TLS1.2:ECDHE_RSA_AES_128_GCM_SHA256:128"]
TLS_ERR = [("gnutls_handshake", "The TLS connection was non-properly terminated."),
           ("gnutls_handshake", "A TLS fatal alert has been received."),
           ("gnutls_handshake", "An unexpected TLS packet was received."),
           ("gnutls_handshake", "Could not negotiate a supported cipher suite."),
           ("gnutls_handshake", "Error in the pull function."),
           ("recv", "The TLS connection was non-properly terminated."),
           ("send", "Error in the push function.")]
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
B62_2 = [a + b for a in B62 for b in B62]
# Not public (or the heavy hitters' documentation ranges): never a random address.
BAD_V4 = [(n, 32 - l) for n, l in (
    (0, 8), (10 << 24, 8), (100 << 24 | 64 << 16, 10), (127 << 24, 8), (169 << 24 | 254 << 16, 16),
    (172 << 24 | 16 << 16, 12), (192 << 24 | 2 << 8, 24), (192 << 24 | 168 << 16, 16),
    (198 << 24 | 18 << 16, 15), (198 << 24 | 51 << 16 | 100 << 8, 24), (203 << 24 | 113 << 8, 24),
    (224 << 24, 3))]


def public_v4(rng):
    """A random public-looking IPv4 address."""
    while True:
        a = rng.getrandbits(32)
        if not any(a >> shift == n >> shift for n, shift in BAD_V4):
            return "%d.%d.%d.%d" % (a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255)


def v6(prefix64, iid):
    return ipaddress.IPv6Address((prefix64 << 64) | iid).compressed


def b62(n, width):
    s = []
    for _ in range(width):
        n, r = divmod(n, 62)
        s.append(B62[r])
    return "".join(reversed(s))


class Tables:
    """Everything the chunk generators share; built once from the seed."""

    def __init__(self, seed, lines, rate, attack_share, style, n_attackers, corpus):
        rng = random.Random(seed)
        self.seed, self.lines, self.rate = seed, lines, rate
        self.attack_share, self.style = attack_share, style
        self.domains = ["%s%s.example" % (rng.choice(WORDS), rng.choice(WORDS)) for _ in range(300)] + \
            ["example.com", "example.org", "mail.example"]
        # Sending MTAs: a few big providers send most of the mail.
        self.mtas = []
        for i in range(3000):
            dom = self.domains[i % len(self.domains)]
            name = "%s%d.%s" % (rng.choice(["mail", "mx", "smtp", "out", "mta"]), rng.randrange(1, 40), dom)
            ip = v6(0x20010db800000000 | rng.getrandbits(32), rng.getrandbits(16)) \
                if rng.random() < 0.2 else public_v4(rng)
            kind = rng.random()
            hname = (name + " ") if kind < 0.7 else ("%s (%s) " % (name, "mail." + dom)) if kind < 0.9 \
                else "(%s) " % name
            self.mtas.append((ip, hname, dom))
        self.mta_cum = _cum([1.0 / (r + 1) ** 1.1 for r in range(len(self.mtas))])
        # Our own submission users, from home and mobile addresses.
        self.users = []
        for i in range(150):
            u = "%s%s@%s" % (FIRST[i % len(FIRST)], "" if i < len(FIRST) else str(i), LOCAL_DOMAIN)
            ips = [public_v4(rng) for _ in range(rng.randrange(1, 4))]
            self.users.append((u, ips, rng.choice(["laptop", "[192.168.1.%d]" % rng.randrange(2, 250),
                                                   "DESKTOP-" + b62(rng.getrandbits(40), 7).upper()])))
        self.locals = ["%s@%s" % (FIRST[i % len(FIRST)], LOCAL_DOMAIN) for i in range(len(FIRST))]
        # Random tokens (message-id parts, junk HELOs) and the scanners'
        # addresses, drawn from pools: far cheaper than fresh randomness per line.
        self.tokens = [b62(rng.getrandbits(42), 7) for _ in range(8192)]
        self.scanners = [public_v4(rng) if rng.random() < 0.9 else
                         v6(0x20010db800000000 | rng.getrandbits(32), rng.getrandbits(64)) for _ in range(20000)]
        self._days = {}
        self.daemon_pid = rng.randrange(1000, 6000)
        self.remote_mx = [("%s-smtp-in.l.%s" % (rng.choice(WORDS), d), public_v4(rng))
                          for d in self.domains[:40]]
        # Attackers: heavy hitters (documentation ranges, easy to spot) and a
        # long tail of public-looking addresses; 15% IPv6, some rotating within
        # their /64. Behaviour is mostly fixed per bot.
        self.attackers = []
        doc = ["192.0.2.%d" % i for i in range(1, 255)] + ["198.51.100.%d" % i for i in range(1, 255)]
        rng.shuffle(doc)
        for i in range(n_attackers):
            if i < 40:
                ip, is6 = doc[i], False
            elif rng.random() < 0.15:
                ip, is6 = 0x20010db800000000 | rng.getrandbits(32), True
            else:
                ip, is6 = public_v4(rng), False
            rotate = is6 and rng.random() < 0.3
            if is6:
                iid = rng.getrandbits(64)
                ip = (ip, iid) if rotate else v6(ip, iid)
            helo = rng.choice(HELOS_BOT)
            if "{r}" in helo:
                helo = helo.replace("{r}", b62(rng.getrandbits(48), 8).upper())
            elif "{rl}" in helo:
                helo = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randrange(5, 10)))
            behaviour = _pick(rng, ATTACK_SESSIONS)
            self.attackers.append((ip, rotate, helo, behaviour))
        self.attacker_cum = _cum([1.0 / (r + 1) for r in range(n_attackers)])
        # Templates: built in, attack groups replaced by captured lines when present.
        self.corpus_groups = sorted(corpus)
        groups = {g: [(b, 1.0) for b in bodies] for g, bodies in BUILTIN.items()}
        groups.update(corpus)
        self.tpl = {g: (KIND_ID[GROUP_KIND[g]], [compile_template(b) for b, _ in lst], _cum([w for _, w in lst]))
                    for g, lst in groups.items()}

    def day(self, d):
        """"YYYY-MM-DD " of day d of the log."""
        s = self._days.get(d)
        if s is None:
            s = self._days[d] = time.strftime("%Y-%m-%d ", time.gmtime(START + d * 86400))
        return s


def _cum(weights):
    out, s = [], 0.0
    for w in weights:
        s += w
        out.append(s)
    return out


def _pick(rng, weighted):
    x = rng.random() * sum(w for w, _ in weighted)
    for w, v in weighted:
        x -= w
        if x < 0:
            return v
    return weighted[-1][1]


ATTACK_SESSIONS = [(34, "brute"), (22, "notadv"), (3, "mech"), (10, "authacl"), (8, "tlsreq"),
                   (10, "subm"), (5, "deferred"), (5, "blacklisted"), (4, "junk")]
BENIGN_SESSIONS = [(38, "inbound"), (12, "submit"), (9, "local"), (2, "defer"), (1.2, "bounce"),
                   (11, "probe"), (5, "tls"), (6, "spam"), (0.3, "verify"), (0.1, "sync"),
                   (0.3, "ehlo"), (0.6, "queue")]

TABLES = None
HMS = ["%02d:%02d:%02d" % (h, m, s) for h in range(24) for m in range(60) for s in range(60)]


def warp(u):
    """Uniform time -> wall time with the diurnal profile (seconds since START)."""
    day, r = divmod(u, 86400.0)
    h = bisect_right(DIURNAL_CUM, r) - 1
    if h > 23:
        h = 23
    return day * 86400.0 + h * 3600 + (r - DIURNAL_CUM[h]) / DIURNAL[h]


def gen_chunk(idx, pool_sessions=0):
    """Lines [idx*CHUNK, ...) of the log: (text, per-kind counts, {attack host: lines}).

    With pool_sessions, instead: that many benign sessions as skeletons that
    the chunks replay with their own times, pids and message ids (see
    replay()): writing a session afresh costs several times more."""
    T = TABLES
    rng = random.Random(T.seed * 1_000_003 + idx if not pool_sessions else T.seed * 7919 + 4242)
    rand = rng.random
    first = idx * CHUNK
    n_target = min(CHUNK, T.lines - first)
    u = first / T.rate
    t_end = warp((first + n_target) / T.rate) - 1e-3 if not pool_sessions else float("inf")
    capture = [None]            # pool mode: the lines of the session being written
    out = []
    append = out.append
    kinds = bytearray()
    hits = []                   # (line index, host) of every attack line
    pending = []                # heap of lines written later in a session: (t, seq, line, kind, host)
    seq = itertools.count()
    tpl = T.tpl
    S = {}
    now = 0.0                   # time of the current session's first line
    stamps = {}                 # second -> timestamp text
    last = [-1, ""]             # second -> message-id time part
    pid = [100000 + int(rand() * 3_000_000)]
    daemon_pfx = " [%d]" % T.daemon_pid    # exim -bd logs each new connection itself
    S["sni"] = HOSTNAME
    style = T.style
    tok = T.tokens
    ntok = len(tok)

    def pick(seq_):
        return seq_[int(rand() * len(seq_))]

    def stamp_text(sec):
        """The timestamp text of second `sec`, made once (stamps)."""
        v = stamps.get(sec)
        if v is None:
            d, r = divmod(sec, 86400)
            v = stamps[sec] = T.day(d) + HMS[r]
        return v

    def emit(group, t, host=None):
        """Writes one line of `group` at time t; host: the attacker, for an attack line."""
        k, fns, cum = tpl[group]
        f = fns[0] if len(fns) == 1 else fns[min(bisect_right(cum, rand() * cum[-1]), len(fns) - 1)]
        if t > t_end:
            t = t_end
        S["ts"] = stamp_text(int(t))
        line = f(S)
        if capture[0] is not None:
            capture[0].append((t, k, S["pfx"], S["mid"], line))
        elif t <= now:
            if host:
                hits.append((len(out), host))
            append(line)
            kinds.append(k)
        else:
            heappush(pending, (t, next(seq), line, k, host))

    def newpid():
        pid[0] = p = (pid[0] + 1 + int(rand() * 6)) % 4_000_000 + 300
        return p

    def style_b():
        return style == "b" or (style == "mixed" and rand() < 0.5)

    def setpeer(ip, sport):
        """A new SMTP connection: picks the line style and the peer text."""
        b = style_b()
        p = newpid()
        S["ip"] = ip
        S["sport"] = sport
        if b:
            S["pfx"] = " [%d]" % p
            S["peer"] = "[%s]:%d I=[%s]:%d" % (ip, 1024 + int(rand() * 64000),
                                              SERVER_V6 if ":" in ip else SERVER_V4, sport)
        else:
            S["pfx"] = ""
            S["peer"] = "[%s]" % ip
        S["cc"] = 1 + int(rand() * rand() * 12)
        S["tlsinfo"] = ""
        return b

    def conn(t):
        """The daemon's line for a new connection (+smtp_connection): its own pid."""
        p = S["pfx"]
        if p:
            S["pfx"] = daemon_pfx
        emit("conn", t)
        S["pfx"] = p

    def tlsinfo():
        return " X=%s CV=no%s" % (pick(TLS_IN), " SNI=" + HOSTNAME if rand() < 0.6 else "")

    def deliver_pfx(b):
        S["pfx"] = " [%d]" % newpid() if b else ""

    def make_mid(t):
        """Exim 4.96's message id: time, pid, fraction of a second, base 62."""
        s = int(t) + START
        if s != last[0]:
            last[0], last[1] = s, b62(s, 6)
        p = pid[0]
        return "%s-%s%s%s-%s" % (last[1], B62_2[p // 14776336 % 3844], B62_2[p // 3844 % 3844],
                                 B62_2[p % 3844], B62_2[int(rand() * 3844)])

    def new_message(t, dom):
        S["mid"] = make_mid(t)
        S["size"] = int(800 + rand() * rand() * rand() * 400000)
        S["msgid"] = "%s%s@%s" % (tok[int(rand() * ntok)], tok[int(rand() * ntok)], dom)
        S["tls"] = pick(TLS_IN)

    def dur():
        s = int(rand() * rand() * 200)
        return "%ds" % s if s < 60 else "%dm%ds" % divmod(s, 60)

    def remote_mx(b):
        name, ip = pick(T.remote_mx)
        S["mxname"] = name
        S["mxpeer"] = "[%s]:25" % ip if b else "[%s]" % ip

    def deliver(t, b, rcpts, remote):
        """Deliveries of the message just received, then Completed."""
        deliver_pfx(b)
        t += 0.2 + rand() * 2
        for i, r in enumerate(rcpts):
            S["rcpt"] = r
            if remote:
                remote_mx(b)
                S["tlsout"] = TLS_IN[int(rand() * 3)]
                S["mid3"] = tok[int(rand() * ntok)]
                emit("deliv_remote", t)
                t += rand()
            else:
                S["lpart"] = r[:r.index("@")]
                emit("deliv_local" if i == 0 else "deliv_local_more", t)
        emit("completed", t)

    def mta():
        i = bisect_right(T.mta_cum, rand() * T.mta_cum[-1])
        return T.mtas[i if i < len(T.mtas) else -1]

    def some_user():
        return "%s@%s" % (pick(FIRST), pick(T.domains))

    # --- benign sessions ------------------------------------------------
    def s_inbound(t):
        ip, hname, dom = mta()
        b = setpeer(ip, 25)
        S["hname"] = hname
        if rand() < 0.7:
            conn(t)
        t += rand() * 3
        new_message(t, dom)
        S["sender"] = "%s@%s" % (pick(FIRST) if rand() < 0.6 else "bounces-" + pick(tok), dom)
        emit("arrival_tls" if rand() < 0.85 else "arrival_plain", t)
        if rand() < 0.7:
            emit("close", t + rand() * 0.5)
        deliver(t, b, [pick(T.locals)] if rand() < 0.8 else [pick(T.locals) for _ in range(2 + int(rand() * 3))], False)

    def submitter(sport):
        u, ips, helo = pick(T.users)
        b = setpeer(pick(ips), sport)
        S["hname"], S["helo"], S["user"] = "(%s) " % helo, helo, u
        S["auth"] = "plain_server" if rand() < 0.6 else "login_server"
        S["sender"] = u
        return b

    def s_submit(t):
        b = submitter(587 if rand() < 0.7 else 465)
        if rand() < 0.7:
            conn(t)
        t += rand() * 3
        if not b and rand() < 0.5:
            emit("authaccepted", t)
        new_message(t, LOCAL_DOMAIN)
        emit("arrival_auth", t)
        if rand() < 0.7:
            emit("close", t + rand() * 0.5)
        deliver(t, b, [some_user()] if rand() < 0.75 else [some_user() for _ in range(2 + int(rand() * 4))], True)

    def s_local(t):
        b = style_b()
        deliver_pfx(b)
        new_message(t, HOSTNAME)
        who = pick(("root", "www-data", "logcheck", "nagios"))
        S["luser"] = who
        S["sender"] = "%s@%s" % (who, HOSTNAME)
        emit("arrival_local", t)
        remote = rand() < 0.3
        deliver(t, b, ["ops@" + pick(T.domains)] if remote else ["postmaster@" + LOCAL_DOMAIN], remote)

    def s_defer(t, what="defer"):
        b = submitter(587)
        new_message(t, LOCAL_DOMAIN)
        emit("arrival_auth", t)
        emit("close", t + rand() * 0.5)
        deliver_pfx(b)
        t += 1 + rand() * 3
        remote_mx(b)
        S["rcpt"] = some_user()
        emit(what, t)
        if what == "bounce":
            m = S["mid"]
            new_message(t, HOSTNAME)
            S["mid2"] = m
            emit("arrival_bounce", t)
            S["rcpt"], S["lpart"] = S["user"], S["user"].split("@")[0]
            emit("deliv_local", t + 0.1)
            emit("completed", t + 0.1)
            S["mid"] = m
            emit("completed", t + 0.1)

    def s_bounce(t):
        s_defer(t, "bounce")

    def probe_host():
        if rand() < 0.5:
            ip, hname, _ = mta()
            return ip, hname
        return pick(T.scanners), ("(%s) " % pick(tok).lower() if rand() < 0.5 else "")

    def s_probe(t):
        ip, hname = probe_host()
        setpeer(ip, 25 if rand() < 0.8 else 587)
        S["hname"] = hname
        if rand() < 0.7:
            conn(t)
        S["dur"] = dur()
        if rand() < 0.6:
            S["cmds"] = c = pick((" C=EHLO,STARTTLS,EHLO,QUIT", " C=EHLO,QUIT", " C=QUIT", "", " C=HELO,QUIT",
                                  " C=EHLO,STARTTLS"))
            if "STARTTLS" in c:
                S["tlsinfo"] = tlsinfo()
            emit("nomail", t + rand() * 20)
        else:
            emit("lost", t + rand() * 20)

    def s_tls(t):
        ip, hname = probe_host()
        setpeer(ip, pick((25, 465, 587)))
        S["hname"] = hname
        if rand() < 0.7:
            conn(t)
        S["tlsop"], S["tlsmsg"] = pick(TLS_ERR)
        emit("tlserror", t + rand())
        if rand() < 0.3:
            S["dur"] = dur()
            emit("lost", t + 1 + rand())

    def s_spam(t):
        ip, hname = probe_host()
        setpeer(ip, 25)
        S["hname"] = hname
        if rand() < 0.7:
            conn(t)
        S["sender"] = "%s@%s" % (pick(tok).lower(), pick(T.domains))
        for _ in range(1 if rand() < 0.7 else 2 + int(rand() * 4)):
            t += rand() * 2
            S["badrcpt"] = "%s%d@%s" % (pick(FIRST), int(rand() * 100), LOCAL_DOMAIN if rand() < 0.7 else pick(T.domains))
            emit("rejrcpt", t)
        emit("close", t + rand())

    def s_verify(t):
        ip, hname = probe_host()
        setpeer(ip, 25)
        S["hname"] = hname
        S["sender"] = "%s@%s" % (pick(tok).lower(), pick(T.domains))
        emit("verifyfail", t)

    def s_sync(t):
        setpeer(probe_host()[0], 25)
        emit("syncerror", t)

    def s_ehlo(t):
        setpeer(probe_host()[0], 25)
        S["junkhelo"] = pick(("%s_%d" % (pick(WORDS), int(rand() * 99)), "ehlo .", "user@localhost"))
        emit("ehlo", t)

    def s_queue(t):
        b = style_b()
        S["qpid"] = p = newpid()
        S["pfx"] = " [%d]" % p if b else ""
        emit("queuerun_start", t)
        emit("queuerun_end", t + rand())

    # --- attack sessions ------------------------------------------------
    cur_attacker = [None]

    def attacker():
        a = cur_attacker[0]
        if a is None or rand() > 0.6:   # bots come back in bursts
            i = bisect_right(T.attacker_cum, rand() * T.attacker_cum[-1])
            a = cur_attacker[0] = T.attackers[i if i < len(T.attackers) else -1]
        ip, rotate, helo, behaviour = a
        if rotate:
            ip = v6(ip[0], rng.getrandbits(64))
        return ip, helo, behaviour if rand() < 0.85 else _pick(rng, ATTACK_SESSIONS)

    def attack_common(t, ip, helo, sport):
        setpeer(ip, sport)
        S["helo"] = helo = helo.replace("{ip}", ip) if "{" in helo else helo
        S["hname"] = "(%s) " % helo
        if rand() < 0.6:
            conn(t)

    def no_mail(t, cmds, tls):
        S["dur"], S["cmds"] = "%ds" % int(rand() * rand() * 4), cmds
        S["tlsinfo"] = tlsinfo() if tls else ""
        emit("nomail", t)

    def s_attack(t):
        ip, helo, what = attacker()
        if what == "brute":
            sport = 587 if rand() < 0.6 else 465
            attack_common(t, ip, helo, sport)
            n = 1
            while n < 5 and rand() < 0.35:
                n += 1
            for i in range(n):
                r = rand()
                S["auth"] = "login_server" if rand() < 0.6 else "plain_server"
                S["user"] = pick(ATTACK_USERS) if r < 0.5 else \
                    "%s@%s" % (pick(ATTACK_USERS) if r < 0.8 else pick(FIRST), LOCAL_DOMAIN)
                t += rand() * 2
                emit("auth535", t, ip)
            if rand() < 0.6:
                t += rand()
                emit("close", t)
                no_mail(t, " C=EHLO,STARTTLS,EHLO" + ",AUTH" * n + ",QUIT" if sport == 587
                        else " C=EHLO" + ",AUTH" * n + ",QUIT", True)
        elif what == "notadv":
            attack_common(t, ip, helo, 25)
            S["authcmd"] = pick(("AUTH LOGIN", "AUTH LOGIN", "AUTH PLAIN", "auth login",
                                 "AUTH LOGIN " + pick(tok) + pick(tok) + "=="))
            n = 4 if rand() < 0.3 else 1 + int(rand() * 2)
            for _ in range(n):
                emit("notadv", t, ip)
            if n == 4:
                emit("dropped_synprot", t)
                no_mail(t, " C=EHLO,AUTH,AUTH,AUTH,AUTH", False)
            else:
                emit("close", t + rand())
                no_mail(t + rand(), " C=EHLO" + ",AUTH" * n + ",QUIT", False)
        elif what == "mech":
            attack_common(t, ip, helo, pick((25, 587, 465)))
            n = 1 + int(rand() * 2)
            for _ in range(n):
                S["mech"] = pick(("CRAM-MD5", "NTLM", "DIGEST-MD5", "GSSAPI", "cram-md5"))
                emit("authmech", t, ip)
            no_mail(t + rand(), " C=EHLO" + ",AUTH" * n + ",QUIT", S["sport"] == 465)
        elif what == "authacl":
            attack_common(t, ip, helo, 587 if rand() < 0.6 else 465)
            S["mech"] = "LOGIN" if rand() < 0.7 else "PLAIN"
            S["tlsinfo"] = tlsinfo()
            t += rand() * 2
            emit("nixed_auth", t, ip)
            emit("rejauth_acl", t, ip)
            emit("dropacl", t)
            no_mail(t, " C=EHLO,STARTTLS,EHLO,AUTH" if S["sport"] == 587 else " C=EHLO,AUTH", True)
        elif what == "tlsreq":
            attack_common(t, ip, helo, 25 if rand() < 0.7 else 587)
            n = 1 if rand() < 0.7 else 2
            for _ in range(n):
                S["mech"] = "LOGIN" if rand() < 0.7 else "PLAIN"
                emit("rejauth_tls", t, ip)
            if rand() < 0.7:
                no_mail(t + rand(), " C=EHLO" + ",AUTH" * n + ",QUIT", False)
        elif what == "subm":
            attack_common(t, ip, helo, 587 if rand() < 0.6 else 465)
            if S["sport"] == 465:
                S["tlsinfo"] = tlsinfo()
            emit("nixed_connect", t, ip)
            emit("submission", t, ip)
        elif what == "deferred":
            attack_common(t, ip, helo, pick((25, 25, 587, 465)))
            if S["sport"] == 465:
                S["tlsinfo"] = tlsinfo()
            S["rate"] = "%.1f" % (5 + rand() * 20)
            emit("deferred", t, ip)
        elif what == "blacklisted":
            attack_common(t, ip, helo, pick((25, 25, 587, 465)))
            if S["sport"] == 465:
                S["tlsinfo"] = tlsinfo()
            emit("blacklisted", t, ip)
        else:   # command junk: counted in mode more only
            attack_common(t, ip, helo, 25)
            emit("dropped_junk", t)
            no_mail(t, " C=EHLO", False)

    benign = {"inbound": s_inbound, "submit": s_submit, "local": s_local, "defer": s_defer,
              "bounce": s_bounce, "probe": s_probe, "tls": s_tls, "spam": s_spam,
              "verify": s_verify, "sync": s_sync, "ehlo": s_ehlo, "queue": s_queue}
    # Sessions that write a pid or message id inside a line are not replayed.
    fresh = ("bounce", "queue")

    if pool_sessions:
        pooled = [(w, n) for w, n in BENIGN_SESSIONS if n not in fresh]
        pcum = _cum([w for w, _ in pooled])
        skeletons = []
        for _ in range(pool_sessions):
            capture[0] = lines = []
            S["mid"] = None
            benign[pooled[bisect_right(pcum, rand() * pcum[-1])][1]](0.0)
            pfxs, mids, sk = [], [], []
            for t, k, pfx, mid, line in lines:
                rest = line[19 + len(pfx):]             # after "YYYY-MM-DD HH:MM:SS" and " [pid]"
                if pfx == daemon_pfx:
                    pi = -2
                elif pfx:
                    if pfx not in pfxs:
                        pfxs.append(pfx)
                    pi = pfxs.index(pfx)
                else:
                    pi = -1
                mi = -1
                if mid and rest.startswith(" " + mid + " "):
                    if mid not in mids:
                        mids.append(mid)
                    mi = mids.index(mid)
                    rest = rest[len(mid) + 1:]
                sk.append((t, k, pi, mi, rest))
            skeletons.append((len(pfxs), len(mids), tuple(sk)))
        return skeletons

    def replay(t, skeleton):
        """A pooled session again at time t, with new pids and message ids."""
        npid, nmid, lines = skeleton
        pfxs = [" [%d]" % newpid() for _ in range(npid)]
        mids = []
        for _ in range(nmid):
            mids.append(" " + make_mid(t))
        sec_now = int(now)
        for dt, k, pi, mi, rest in lines:
            tl = t + dt
            if tl > t_end:
                tl = t_end
            sec = int(tl)
            v = stamp_text(sec)
            if pi >= 0:
                v += pfxs[pi]
            elif pi == -2:
                v += daemon_pfx
            if mi >= 0:
                v += mids[mi]
            line = v + rest
            if sec == sec_now:      # same second as now: the order within it does not show
                append(line)
                kinds.append(k)
            else:
                heappush(pending, (tl, next(seq), line, k, None))

    pool = T.pool
    npool = len(pool)
    fresh_w = sum(w for w, n in BENIGN_SESSIONS if n in fresh)
    fresh_cum = _cum([w for w, n in BENIGN_SESSIONS if n in fresh])
    fresh_fun = [benign[n] for _, n in BENIGN_SESSIONS if n in fresh]
    btot = sum(w for w, _ in BENIGN_SESSIONS)
    share = T.attack_share
    p_behind, p_ahead = min(1.0, 4 * share), share / 4
    gap = 3.4 / T.rate * 0.97   # ~3.4 lines a session; a little fast so the chunk ends on time
    expo = rng.expovariate
    while len(out) < n_target:
        u += expo(1.0 / gap)
        t = warp(u)
        if t < now:
            t = now
        now = t
        while pending and pending[0][0] <= t:
            _, _, line, k, host = heappop(pending)
            if host:
                hits.append((len(out), host))
            append(line)
            kinds.append(k)
        # Attack sessions are drawn more often while the chunk is behind its
        # attack share, less while ahead: the share holds in every chunk.
        if rand() < (p_behind if len(hits) < share * len(out) else p_ahead):
            s_attack(t)
        else:
            r = rand() * btot
            if r < fresh_w:
                fresh_fun[bisect_right(fresh_cum, r)](t)
            else:
                replay(t, pool[int(rand() * npool)])
    while pending:
        _, _, line, k, host = heappop(pending)
        if host:
            hits.append((len(out), host))
        append(line)
        kinds.append(k)
    del out[n_target:]          # the last sessions overrun the chunk
    del kinds[n_target:]
    counts = [kinds.count(k) for k in range(len(KINDS))]
    hosts = {}
    for i, ip in hits:
        if i < n_target:
            hosts[ip] = hosts.get(ip, 0) + 1
    return "".join(out), counts, hosts


# --- generation ------------------------------------------------------------
def generate(path, args, corpus, corpus_files):
    global TABLES
    n_attackers = args.attackers or max(1000, min(100_000, args.lines // 100))
    TABLES = Tables(args.seed, args.lines, args.rate, args.attack_share, args.style, n_attackers, corpus)
    TABLES.pool = []
    TABLES.pool = gen_chunk(0, pool_sessions=max(2000, min(30000, args.lines // 30)))
    nchunks = (args.lines + CHUNK - 1) // CHUNK
    counts = [0] * len(KINDS)
    hosts = {}
    t0 = time.perf_counter()
    jobs = max(1, min(args.jobs, nchunks))
    with open(path, "w", encoding="latin-1", newline="") as f:
        if jobs == 1:
            results = map(gen_chunk, range(nchunks))
            pool = None
        else:
            # fork: the workers inherit TABLES; chunk seeds make the file the same for any --jobs.
            pool = multiprocessing.get_context("fork").Pool(jobs)
            results = pool.imap(gen_chunk, range(nchunks))
        try:
            for text, c, h in results:
                f.write(text)
                for k in range(len(KINDS)):
                    counts[k] += c[k]
                for ip, n in h.items():
                    hosts[ip] = hosts.get(ip, 0) + n
        finally:
            if pool:
                pool.close()
                pool.join()
    secs = time.perf_counter() - t0
    attack = sum(counts[:N_ATTACK_KINDS])
    manifest = {
        "generator": "scan-bench", "seed": args.seed, "lines": args.lines,
        "rate_lines_per_s": args.rate, "style": args.style,
        "attack_lines": attack, "attack_share": round(attack / max(1, args.lines), 5),
        "attack_hosts": len(hosts), "attacker_population": n_attackers,
        "kinds": {k: counts[i] for i, k in enumerate(KINDS)},
        "corpus_groups": TABLES.corpus_groups,
        "corpus_sha1": {os.path.basename(p): _sha1(p) for p in corpus_files},
        "seconds": round(secs, 2),
        "hosts": hosts,         # attack lines per attacker address: what mode normal should find
    }
    with open(path + ".manifest.json", "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest


def _sha1(path):
    with open(path, "rb") as f:
        return hashlib.sha1(f.read()).hexdigest()


def corpus_paths(args):
    if args.no_corpus:
        return []
    d = args.corpus_dir or os.path.join(REPO, "test", "data", "exim-corpus", "4.96")
    return [os.path.join(d, n) for n in ("mainlog-A", "mainlog-B") if os.path.isfile(os.path.join(d, n))]


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 24)
            if not b:
                return n
            n += b.count(b"\n")


def head_file(src, dst, n):
    """The first n lines of src into dst."""
    with open(src, "rb") as i, open(dst, "wb") as o:
        left = n
        while left:
            b = i.read(1 << 24)
            if not b:
                break
            c = b.count(b"\n")
            if c >= left:
                pos = -1
                for _ in range(left):
                    pos = b.index(b"\n", pos + 1)
                b = b[:pos + 1]
                c = left
            o.write(b)
            left -= c


# --- measuring -------------------------------------------------------------
GNU_TIME = "/usr/bin/time"


def run_measured(cmd, out_path, err_path):
    """Runs cmd; returns (wall seconds, peak RSS in MB, exit code).

    The peak RSS comes from GNU time, not from wait4() here: a child that
    this (large) Python process forks inherits its RSS high-water mark
    through exec, so ru_maxrss would report the benchmark, not the tool."""
    rss_path = out_path + ".rss"
    with open(out_path, "wb") as o, open(err_path, "wb") as e:
        t0 = time.perf_counter()
        try:
            p = subprocess.run([GNU_TIME, "-q", "-f", "%M", "-o", rss_path] + cmd,
                               stdout=o, stderr=e, stdin=subprocess.DEVNULL)
        except OSError as ex:
            raise Failure("cannot run %s: %s" % (cmd[0], ex))
        secs = time.perf_counter() - t0
    try:
        with open(rss_path) as f:
            rss_kb = int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        raise Failure("GNU time wrote no peak RSS for: %s\n%s" % (" ".join(cmd), tail(err_path)))
    return secs, rss_kb / 1024.0, p.returncode


def tail(path, n=15):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def pin(args):
    return ["taskset", "-c", str(args.cpu)] if args.cpu >= 0 else []


def run_banctl(args, log, work, tag):
    out, err = os.path.join(work, "banctl-%s.json" % tag), os.path.join(work, "banctl-%s.err" % tag)
    cmd = pin(args) + [args.banctl, "test", log, args.filter, "--json"]
    secs, rss, rc = run_measured(cmd, out, err)
    if rc != 0:
        raise Failure("exim-banctl exited %d: %s\n%s" % (rc, " ".join(cmd), tail(err)))
    try:
        with open(out, encoding="utf-8") as f:
            j = json.load(f)
        lines, matched = int(j["lines"]), int(j["matched"])
    except (OSError, ValueError, KeyError, TypeError) as ex:
        raise Failure("exim-banctl printed no usable JSON (%s): %s\n%s" % (ex, " ".join(cmd), tail(out, 5)))
    return {"cmd": cmd, "seconds": secs, "rss_mb": rss, "lines": lines, "matched": matched,
            "missed": j.get("missed"), "ignored": j.get("ignored"), "own_seconds": j.get("seconds"),
            "hosts": len(j.get("hosts") or {}), "host_hits": j.get("hosts") or {}}


F2B_LINES = re.compile(r"^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed", re.M)


def run_fail2ban(args, log, work):
    out, err = os.path.join(work, "fail2ban.out"), os.path.join(work, "fail2ban.err")
    cmd = pin(args) + [args.fail2ban_regex, "--print-no-missed", "--print-no-ignored", log, args.fail2ban_filter]
    secs, rss, rc = run_measured(cmd, out, err)
    with open(out, encoding="utf-8", errors="replace") as f:
        text = f.read()
    m = F2B_LINES.search(text)
    if rc != 0 or not m:
        raise Failure("fail2ban-regex exited %d: %s\n%s%s" % (rc, " ".join(cmd), tail(out), tail(err)))
    return {"cmd": cmd, "seconds": secs, "rss_mb": rss, "lines": int(m.group(1)),
            "ignored": int(m.group(2)), "matched": int(m.group(3)), "missed": int(m.group(4))}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2]


def fmt_n(n):
    return "{:,}".format(int(round(n)))


def main():
    ap = argparse.ArgumentParser(
        description="Benchmark `exim-banctl test` against fail2ban-regex on a generated Exim mainlog.")
    ap.add_argument("--lines", type=int, default=1_000_000, help="lines to generate (default 1,000,000)")
    ap.add_argument("--log", help="use this log; generated there first (and kept) if it does not exist")
    ap.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    ap.add_argument("--attack-share", type=float, default=0.075, help="share of attack lines (default 0.075)")
    ap.add_argument("--style", choices=["mixed", "a", "b"], default="mixed",
                    help="line style: a = Debian default (no pid, [ip]), b = +pid +incoming_port "
                         "+incoming_interface, mixed = both, per connection (default)")
    ap.add_argument("--rate", type=float, default=15.0, help="mean log lines per second of log time (default 15)")
    ap.add_argument("--attackers", type=int, default=0,
                    help="attacker population (default lines/100, between 1,000 and 100,000)")
    ap.add_argument("--corpus-dir", help="captured mainlog-A/-B to take attack shapes from "
                    "(default test/data/exim-corpus/4.96)")
    ap.add_argument("--no-corpus", action="store_true", help="use the built-in attack shapes only")
    ap.add_argument("--jobs", type=int, default=min(8, os.cpu_count() or 1), help="generator processes")
    ap.add_argument("--generate-only", action="store_true", help="write the log (needs --log; overwritten if it exists) and stop")
    ap.add_argument("--build-dir", help="build directory; the binary is BUILD/daemon/exim-banctl")
    ap.add_argument("--banctl", help="exim-banctl binary (default %s)" % os.path.join(REPO, "build", "daemon", "exim-banctl"))
    ap.add_argument("--filter", default="exim", help="filter given to exim-banctl test (default exim)")
    ap.add_argument("--runs", type=int, default=3, help="exim-banctl runs; the median is reported (default 3)")
    ap.add_argument("--fail2ban-regex", default="fail2ban-regex", help="fail2ban-regex command")
    ap.add_argument("--fail2ban-filter", default="/etc/fail2ban/filter.d/exim.conf")
    ap.add_argument("--fail2ban-lines", type=int, default=1_000_000,
                    help="fail2ban-regex reads the first this many lines (0 = the whole file; default 1,000,000)")
    ap.add_argument("--no-fail2ban", action="store_true", help="skip fail2ban-regex (no ratio)")
    ap.add_argument("--cpu", type=int, default=0, help="core to pin both tools to with taskset (-1: no pinning)")
    ap.add_argument("--tmpdir", help="where the temporary directory goes (default $TMPDIR or /tmp)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = ap.parse_args()

    if args.banctl and args.build_dir:
        ap.error("give --banctl or --build-dir, not both")
    if args.build_dir:
        args.banctl = os.path.join(args.build_dir, "daemon", "exim-banctl")
    args.banctl = args.banctl or os.path.join(REPO, "build", "daemon", "exim-banctl")
    if args.lines < 1 or args.runs < 1 or args.fail2ban_lines < 0:
        ap.error("--lines and --runs must be positive, --fail2ban-lines not negative")
    if args.generate_only and not args.log:
        ap.error("--generate-only needs --log")

    say = sayer(None, sys.stderr)
    work = tempfile.mkdtemp(prefix="scan-bench.", dir=args.tmpdir)
    try:
        if not args.generate_only:    # before a long generation, not after
            if not (os.path.isfile(args.banctl) and os.access(args.banctl, os.X_OK)):
                raise Failure("exim-banctl not found at %s (build it, or give --banctl/--build-dir)" % args.banctl)
            if args.cpu >= 0 and not shutil.which("taskset"):
                raise Failure("taskset not found (Debian package util-linux)")
            if not os.access(GNU_TIME, os.X_OK):
                raise Failure("%s not found: it measures peak RSS (Debian package time)" % GNU_TIME)
            if not args.no_fail2ban and not shutil.which(args.fail2ban_regex):
                raise Failure("%s not found (Debian package fail2ban)" % args.fail2ban_regex)

        # 1. the log
        manifest = None
        if args.log and os.path.exists(args.log) and not args.generate_only:
            log = args.log
            say("scan-bench: counting lines of %s" % log)
            args.lines = count_lines(log)
            try:
                with open(log + ".manifest.json") as f:
                    manifest = json.load(f)
                if manifest.get("lines") != args.lines:
                    manifest = None
            except (OSError, ValueError):
                manifest = None
            gen_secs = None
        else:
            log = args.log or os.path.join(work, "mainlog")
            os.makedirs(os.path.dirname(os.path.abspath(log)), exist_ok=True)
            corpus_files = corpus_paths(args)
            corpus = load_corpus(corpus_files)
            say("scan-bench: generating %s lines into %s (seed %d, %d jobs%s)" % (
                fmt_n(args.lines), log, args.seed, args.jobs,
                ", attack shapes from the corpus: " + ",".join(sorted(corpus)) if corpus else ", built-in attack shapes"))
            manifest = generate(log, args, corpus, corpus_files)
            gen_secs = manifest["seconds"]
            say("scan-bench: generated in %.1f s (%s lines/s)" % (gen_secs, fmt_n(args.lines / gen_secs)))
        size_mb = os.path.getsize(log) / 1e6
        if args.generate_only:
            say("scan-bench: wrote %s (%.1f MB) and %s.manifest.json" % (log, size_mb, log))
            return 0

        # 2. exim-banctl on the whole file. The log is read once first, and
        # the freshly written pages flushed, so that both tools scan it from
        # the page cache: otherwise the first tool to run pays for the disk.
        say("scan-bench: reading %s once into the page cache" % log)
        os.sync()
        with open(log, "rb") as f:
            while f.read(1 << 24):
                pass
        runs = []
        for r in range(args.runs):
            say("scan-bench: exim-banctl run %d/%d" % (r + 1, args.runs))
            runs.append(run_banctl(args, log, work, str(r)))
        for r in runs:
            if r["lines"] != args.lines:
                raise Failure("exim-banctl counted %d lines, the file has %d" % (r["lines"], args.lines))
        secs = median([r["seconds"] for r in runs])
        banctl = dict(runs[0])
        banctl.update(seconds=secs, rss_mb=max(r["rss_mb"] for r in runs),
                      lines_per_s=args.lines / secs, runs=[round(r["seconds"], 4) for r in runs])

        # 3. fail2ban-regex on the whole file or on its first lines
        f2b = None
        prefix = None
        if not args.no_fail2ban:
            f2b_log = log
            if args.fail2ban_lines and args.fail2ban_lines < args.lines:
                f2b_log = os.path.join(work, "mainlog.head")
                head_file(log, f2b_log, args.fail2ban_lines)
                # exim-banctl on the same prefix, so the match counts compare like for like
                say("scan-bench: exim-banctl on the first %s lines" % fmt_n(args.fail2ban_lines))
                prefix = run_banctl(args, f2b_log, work, "head")
                if prefix["lines"] != args.fail2ban_lines:
                    raise Failure("exim-banctl counted %d lines, the file has %d" % (
                        prefix["lines"], args.fail2ban_lines))
            say("scan-bench: fail2ban-regex on %s lines (slow: up to a minute or more per million lines)"
                % fmt_n(min(args.lines, args.fail2ban_lines or args.lines)))
            f2b = run_fail2ban(args, f2b_log, work)
            f2b["lines_per_s"] = f2b["lines"] / f2b["seconds"]
            f2b["whole_file"] = f2b_log == log
            if prefix is None:
                prefix = banctl
    except Failure as ex:
        say("scan-bench: FAILED: %s" % ex)
        return 1
    finally:
        if args.keep:
            say("scan-bench: kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)

    ratio = banctl["lines_per_s"] / f2b["lines_per_s"] if f2b else None
    truth = None
    if manifest and isinstance(manifest.get("hosts"), dict):
        # exim-banctl's hosts beside the generator's: same addresses, same hits?
        got, want = banctl["host_hits"], manifest["hosts"]
        differ = sum(1 for h in set(got) | set(want) if got.get(h) != want.get(h))
        truth = {"attack_lines": manifest["attack_lines"], "attack_hosts": len(want),
                 "banctl_hosts": len(got), "hosts_differing": differ}
    rss_applies = args.lines >= RSS_TARGET_LINES
    targets = {
        "lines_per_s": {"target": TARGET_LPS, "value": round(banctl["lines_per_s"]),
                        "pass": banctl["lines_per_s"] >= TARGET_LPS},
        "ratio": {"target": TARGET_RATIO, "goal": GOAL_RATIO, "value": round(ratio, 1) if ratio else None,
                  "pass": (ratio >= TARGET_RATIO) if ratio else None},
        "rss_mb": {"target": TARGET_RSS_MB, "on_lines": RSS_TARGET_LINES, "value": round(banctl["rss_mb"], 1),
                   "pass": (banctl["rss_mb"] <= TARGET_RSS_MB) if rss_applies else None},
    }
    result = {
        "log": {"path": log if (args.log or args.keep) else None, "lines": args.lines, "mb": round(size_mb, 1),
                "generated_seconds": gen_secs,
                "manifest": {k: v for k, v in manifest.items() if k != "hosts"} if manifest else None},
        "cpu": {"model": cpu_model(), "pinned_core": args.cpu if args.cpu >= 0 else None},
        "exim_banctl": {k: banctl[k] for k in ("cmd", "lines", "seconds", "lines_per_s", "rss_mb", "matched",
                                               "missed", "ignored", "own_seconds", "hosts", "runs")},
        "fail2ban_regex": f2b,
        "exim_banctl_on_fail2ban_lines": {k: prefix[k] for k in ("lines", "matched", "hosts")} if prefix else None,
        "ground_truth": truth,
        "loadavg": os.getloadavg()[0],
        "ratio": ratio,
        "targets": targets,
    }
    if args.json:
        json.dump(result, sys.stdout, indent=1)
        print()
        return 0

    P = print
    P("")
    P("scan-bench: offline scan of a generated Exim mainlog")
    P("  log            %s lines, %.1f MB%s" % (fmt_n(args.lines), size_mb,
                                                 (", generated in %.1f s" % gen_secs) if gen_secs else ", reused " + log))
    if manifest:
        P("  attack lines   %s (%.2f%%) from %s addresses; kinds: %s" % (
            fmt_n(manifest["attack_lines"]), 100 * manifest["attack_share"], fmt_n(manifest["attack_hosts"]),
            ", ".join("%s %s" % (k, fmt_n(v)) for k, v in manifest["kinds"].items() if v)))
        if manifest.get("corpus_groups"):
            P("  shapes from    test/data/exim-corpus/4.96: %s" % ", ".join(manifest["corpus_groups"]))
    P("  cpu            %s%s; load average %.1f%s" % (
        cpu_model(), ", both tools pinned to core %d" % args.cpu if args.cpu >= 0 else "", os.getloadavg()[0],
        " (other work on this machine skews the figures)" if os.getloadavg()[0] > 1.5 else ""))
    P("")
    P("  %-16s %12s %10s %12s %10s %10s" % ("tool", "lines", "seconds", "lines/s", "matched", "peak RSS"))
    P("  %-16s %12s %10.3f %12s %10s %7.1f MB" % ("exim-banctl", fmt_n(banctl["lines"]), banctl["seconds"],
                                                 fmt_n(banctl["lines_per_s"]), fmt_n(banctl["matched"]), banctl["rss_mb"]))
    if f2b:
        P("  %-16s %12s %10.3f %12s %10s %7.1f MB" % ("fail2ban-regex", fmt_n(f2b["lines"]), f2b["seconds"],
                                                     fmt_n(f2b["lines_per_s"]), fmt_n(f2b["matched"]), f2b["rss_mb"]))
        if not f2b["whole_file"]:
            P("  (fail2ban-regex read only the first %s of the %s lines; exim-banctl on those same lines "
              "matched %s)" % (fmt_n(f2b["lines"]), fmt_n(args.lines), fmt_n(prefix["matched"])))
        P("  matched on the same lines: exim-banctl %s, fail2ban-regex %s" % (
            fmt_n(prefix["matched"]), fmt_n(f2b["matched"])))
    P("  exim-banctl seconds per run: %s (median reported)" % ", ".join("%.3f" % s for s in banctl["runs"]))
    if truth:
        P("  ground truth   %s attack lines (mode normal) from %s addresses; exim-banctl found %s addresses, "
          "%s differ from the generator's per-host counts" % (
              fmt_n(truth["attack_lines"]), fmt_n(truth["attack_hosts"]), fmt_n(truth["banctl_hosts"]),
              fmt_n(truth["hosts_differing"])))
    P("")
    if ratio:
        P("  ratio          exim-banctl lines/s / fail2ban-regex lines/s = %.1fx" % ratio)
    else:
        P("  ratio          not measured (--no-fail2ban)")
    P("")
    P("  targets (DESIGN.md)")
    rows = [
        (">= %s lines/s on one core" % fmt_n(TARGET_LPS), targets["lines_per_s"]["pass"],
         fmt_n(banctl["lines_per_s"])),
        (">= %dx fail2ban-regex (goal %dx)" % (TARGET_RATIO, GOAL_RATIO), targets["ratio"]["pass"],
         "%.1fx" % ratio if ratio else "not measured"),
        ("RSS <= %d MB on %s lines" % (TARGET_RSS_MB, fmt_n(RSS_TARGET_LINES)), targets["rss_mb"]["pass"],
         "%.1f MB on %s lines%s" % (banctl["rss_mb"], fmt_n(args.lines),
                                    "" if rss_applies else "; the target is for --lines %d" % RSS_TARGET_LINES)),
    ]
    for label, ok, value in rows:
        P("    %-36s %-4s  %s" % (label, "n/a" if ok is None else ("PASS" if ok else "FAIL"), value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
