"""The plan of exim-e2e: the topology's addresses (exim-e2e-test.sh builds
it), the bot's attacker identities and the hits each of its attempts
writes, and the files Exim's config reads that follow from them."""

import ipaddress
import os


# e2e.py, which the run starts again as its follower, clients and probes
DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "e2e.py")

MAXRETRY = 3
BANTIME = 3600
PROBE_TIMEOUT = 2.0        # a connect to a banned port must time out within this, not be refused
SWAKS_TIMEOUT = 5          # every swaks read; a session cut by its own ban ends after this
BAN_TIMEOUT = 10.0         # line that reaches maxretry -> element in the kernel
USER_INTERVAL = 2.0        # the user's background submissions
PORTS = (25, 465, 587)

# --- topology (exim-e2e-test builds it; these are its addresses) -------------
SRV_BOT = {4: "10.98.1.1", 6: "fd00:98:1::1"}     # the server on the bot's link
SRV_USER = {4: "10.98.2.1", 6: "fd00:98:2::1"}    # the server on the user's link
BOT_HOME = {4: "10.98.1.2", 6: "fd00:98:1::2"}    # the bot's own, never-attacking addresses
USER = {4: "10.98.2.2", 6: "fd00:98:2::2"}
USER_NAME, USER_PASSWORD = "alice", "alice-e2e-Secret-7"
GUESS_USERS = ("alice", "admin", "info", "test", "postmaster")

# Hits each attempt writes to the mainlog (mode normal of the shipped filter):
HITS = {
    "guess587": 1,    # swaks, STARTTLS, AUTH LOGIN, wrong password: 535
    "guess465": 1,    # swaks, TLS on connect, AUTH PLAIN, wrong password: 535
    "noadv25": 1,     # raw: AUTH LOGIN on 25, where it is never advertised: 503
    "noadv587": 1,    # raw: AUTH PLAIN on 587 before STARTTLS (not advertised): 503
    "blast25": 3,     # raw: three AUTH LOGIN on 25 in one session, no QUIT
    "nixconn587": 2,  # raw: connect to 587 from a host not in the allow file:
    "nixconn465": 2,  #   "AUTH nixed IP PORT connect" + "Submission not permitted"
    "aclauth587": 2,  # swaks: AUTH from a host that may submit but not AUTH:
    "aclauth465": 2,  #   "AUTH nixed: IP ..." + "rejected AUTH ...: AUTH not accepted"
}
RAW_KINDS = ("noadv25", "noadv587", "blast25", "nixconn587", "nixconn465")


class Ident:
    """One attacker identity: an IPv4 address, or an IPv6 /64 the bot holds
    two addresses of (a and b). attempts: (kind, index into addrs)."""

    def __init__(self, name, addrs, allow, attempts, series=False):
        self.name = name
        self.addrs = addrs
        self.family = 6 if ":" in addrs[0] else 4
        self.allow = allow    # "both": may submit and AUTH; "submit": may submit only; "none"
        self.attempts = attempts
        self.series = series
        self.key = key_of(addrs[0])
        for a in addrs:
            assert key_of(a) == self.key, (a, self.key)
        assert sum(HITS[k] for k, _ in attempts) >= MAXRETRY, name


def key_of(address):
    """The daemon's key as the monitor prints it: the IPv4 address, or the
    IPv6 /64's network address."""
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        return str(ipaddress.IPv6Network((ip, 64), strict=False).network_address)
    return str(ip)


def plan():
    main = [
        Ident("v4 guesser, ban on 25", ["10.98.1.11"], "both",
              [("guess587", 0), ("guess465", 0), ("noadv25", 0)]),
        Ident("v4 guesser, ban on 465", ["10.98.1.12"], "both",
              [("noadv25", 0), ("guess587", 0), ("guess465", 0)]),
        Ident("v4 guesser, ban on 587", ["10.98.1.13"], "both",
              [("guess465", 0), ("noadv587", 0), ("guess587", 0)]),
        Ident("v4 not allowed to submit (connect ACL)", ["10.98.1.14"], "none",
              [("nixconn587", 0), ("nixconn465", 0)]),
        Ident("v4 may submit, not AUTH (AUTH ACL)", ["10.98.1.15"], "submit",
              [("aclauth587", 0), ("aclauth465", 0)]),
        Ident("v6 guesser", ["fd00:98:1:1::a", "fd00:98:1:1::b"], "both",
              [("guess587", 0), ("guess465", 0), ("noadv25", 0)]),
        Ident("v6 guesser from two addresses of one /64", ["fd00:98:1:2::a", "fd00:98:1:2::b"], "both",
              [("guess465", 0), ("noadv25", 1), ("guess587", 0)]),
        Ident("v6 not allowed to submit (connect ACL)", ["fd00:98:1:3::a", "fd00:98:1:3::b"], "none",
              [("nixconn465", 1), ("nixconn587", 0)]),
        Ident("v6 guesser, AUTH before STARTTLS", ["fd00:98:1:4::a", "fd00:98:1:4::b"], "both",
              [("noadv587", 1), ("guess587", 1), ("noadv25", 0)]),
    ]
    restart = Ident("v4 guesser across a daemon restart", ["10.98.1.16"], "both",
                    [("guess587", 0), ("noadv25", 0), ("guess465", 0)])
    shapes = [
        [("blast25", 0)],
        [("guess587", 0), ("guess465", 0), ("noadv25", 0)],
        [("noadv25", 0), ("noadv587", 0), ("guess465", 0)],
        [("guess465", 0), ("guess587", 0), ("noadv587", 0)],
    ]
    series = []
    for i in range(20):
        series.append(Ident("series v4 #%d" % i, ["10.98.1.%d" % (100 + i)], "both", shapes[i % 4], series=True))
    for i in range(8):
        series.append(Ident("series v6 #%d" % i, ["fd00:98:1:%x::a" % (0x10 + i), "fd00:98:1:%x::b" % (0x10 + i)],
                            "both", [(k, n % 2) for n, (k, _) in enumerate(shapes[(i + 1) % 4])], series=True))
    return main, restart, series


def all_idents():
    main, restart, series = plan()
    return main + [restart] + series


def main_files(work):
    """e2e.py files WORK: the passwd and the two allow files; prints the bot's
    addresses for its veth."""
    with open(os.path.join(work, "passwd"), "w") as f:
        f.write("%s: %s\n" % (USER_NAME, USER_PASSWORD))
        f.write("bob: bob-e2e-Secret-8\n")
    submit, auth = [USER[4], USER[6]], [USER[4], USER[6]]
    for ident in all_idents():
        if ident.allow in ("both", "submit"):
            submit += ident.addrs
        if ident.allow == "both":
            auth += ident.addrs
    for name, hosts in (("submission-hosts", submit), ("auth-hosts", auth)):
        with open(os.path.join(work, name), "w") as f:
            f.write("# written by test/system/exim-e2e/e2e.py\n")
            f.write("".join(h + "\n" for h in hosts))
    print("%s/24" % BOT_HOME[4])
    print("%s/64" % BOT_HOME[6])
    for ident in all_idents():
        for a in ident.addrs:
            print("%s/%d" % (a, 64 if ident.family == 6 else 24))
