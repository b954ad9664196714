"""The injection corpus of test/data/injection/ and the filter cases of
test/data/filter-cases/ (format: the corpus's README.md): entries of
(technique, note, connecting host, planted victim or None, modes that must
hit the host, failed attempts each hit counts, the log line as bytes), and
the address ranges of attackers and victims. A dovecot-*.corpus file's
entries are Dovecot's lines and name the dovecot filter's modes. Read by
check-injection and by exim-injection-test's driver."""

import glob
import ipaddress
import os
import re

DATA = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "..", "..", "data", "injection"))
MODES = ("normal", "more", "aggressive", "spam", "dovecot_normal", "dovecot_aggressive")
# "normal+" is every exim mode that includes normal, and so on.
HIT_SETS = {
    "-": (),
    "normal+": ("normal", "more", "aggressive"),
    "more+": ("more", "aggressive"),
    "aggressive": ("aggressive",),
    "spam": ("spam",),
}
# The same for the dovecot filter (a dovecot-*.corpus file).
DOVECOT_HIT_SETS = {
    "-": (),
    "normal+": ("dovecot_normal", "dovecot_aggressive"),
    "aggressive": ("dovecot_aggressive",),
}
ATTACKERS = tuple(ipaddress.ip_network(n) for n in ("203.0.113.0/24", "2001:db8:bad::/48"))
VICTIMS = tuple(ipaddress.ip_network(n) for n in ("198.51.100.0/24", "2001:db8:f00d::/48"))


class CorpusError(Exception):
    pass


def in_ranges(address, ranges):
    """Whether `address` (text: an address or an IPv6 /64 key) lies in one
    of `ranges`."""
    try:
        net = ipaddress.ip_network(address, strict=False)
    except ValueError:
        return False
    if net.version == 6 and net.network_address.ipv4_mapped is not None:
        net = ipaddress.ip_network(net.network_address.ipv4_mapped)
    return any(net.version == r.version and net.subnet_of(r) for r in ranges)


def canon(address):
    a = ipaddress.ip_address(address)
    if a.version == 6 and a.ipv4_mapped is not None:
        a = a.ipv4_mapped
    return a.compressed


def key_of(address):
    """The daemon's key as exim-banctl prints a ban: IPv4, or the IPv6 /64."""
    a = ipaddress.ip_address(canon(address))
    if a.version == 6:
        return str(ipaddress.IPv6Network((a, 64), strict=False))
    return str(a)


_ESCAPE = re.compile(rb"\\(0|x[0-9A-Fa-f]{2}|\{(\d+)\*([^}]+)\})")


def unescape(text):
    """\\0, \\xHH and \\{N*TEXT} (TEXT N times) of a corpus line, as bytes."""
    def one(m):
        if m.group(1) == b"0":
            return b"\0"
        if m.group(1).startswith(b"x"):
            return bytes([int(m.group(1)[1:], 16)])
        return m.group(3) * int(m.group(2))
    return _ESCAPE.sub(one, text)


class Entry:
    def __init__(self, technique, note, fields, line, where):
        self.technique = technique
        self.note = note
        self.where = where
        self.line = line
        try:
            self.host = canon(fields.pop("host"))
            victim = fields.pop("victim", None)
            self.victim = canon(victim) if victim is not None else None
            hit = fields.pop("hit")
            self.count = int(fields.pop("count", "1"))
        except (KeyError, ValueError) as e:
            raise CorpusError("%s: bad or missing host=, victim=, hit= or count= (%s)" % (where, e))
        if fields:
            raise CorpusError("%s: unknown fields %s" % (where, sorted(fields)))
        sets = DOVECOT_HIT_SETS if technique.startswith("dovecot-") else HIT_SETS
        if any(h not in sets for h in hit.split(",")):
            raise CorpusError("%s: hit=%s is not a list of %s" % (where, hit, " ".join(sets)))
        self.hit = hit
        self.modes = tuple(m for h in hit.split(",") for m in sets[h])
        if not in_ranges(self.host, ATTACKERS):
            raise CorpusError("%s: host %s is not in the attackers' ranges" % (where, self.host))
        if self.victim is not None and not in_ranges(self.victim, VICTIMS):
            raise CorpusError("%s: victim %s is not in the victims' ranges" % (where, self.victim))
        if b"\n" in line:
            raise CorpusError("%s: the line holds a newline byte" % where)


def load(directory=DATA):
    """Every entry of DIRECTORY/*.corpus, in file order; raises CorpusError
    on a malformed entry or a connecting host used twice (each line has a
    host of its own, so that a hit names its line)."""
    entries = []
    for path in sorted(glob.glob(os.path.join(directory, "*.corpus"))):
        technique = os.path.basename(path)[:-len(".corpus")]
        with open(path, "rb") as f:
            lines = f.read().split(b"\n")
        note, fields = "", None
        for number, raw in enumerate(lines, 1):
            where = "%s:%d" % (os.path.basename(path), number)
            if fields is not None:
                entries.append(Entry(technique, note, fields, unescape(raw), where))
                note, fields = "", None
            elif raw.startswith(b"@ "):
                fields = dict(kv.split("=", 1) for kv in raw[2:].decode().split())
            elif raw.startswith(b"# "):
                note = raw[2:].decode("utf-8", "replace")
            elif raw.strip():
                raise CorpusError("%s: expected '# note', '@ fields' or a blank line" % where)
        if fields is not None:
            raise CorpusError("%s: '@' line without a log line after it" % path)
    seen = {}
    for e in entries:
        if e.host in seen:
            raise CorpusError("%s: host %s is used at %s already" % (e.where, e.host, seen[e.host]))
        seen[e.host] = e.where
    return entries
