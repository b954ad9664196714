"""The address flood's lines: attack lines of the shipped exim filter's mode
normal (five shapes) from a large set of distinct addresses, each address
below maxretry, with a few real attackers that reach maxretry inside one
chunk. Built from whole chunks with str.join, so that Python writes them
about as fast as the daemon can read (tens of MB/s would be too slow)."""

import datetime

# The filter's mode normal, "{}" where the address goes (checked against
# exim-banctl test by the flood test before it starts).
SHAPES = (
    "login authenticator failed for (ylmf-pc) [{}]: 535 Incorrect authentication data (set_id=admin)",
    'SMTP protocol error in "AUTH LOGIN" H=(ylmf-pc) [{}] AUTH command used when not advertised',
    "H=(ylmf-pc) [{}] rejected AUTH LOGIN: AUTH not accepted",
    "AUTH nixed: {}",
    'H=[{}] rejected connection in "connect" ACL: Submission not permitted',
)


def flood_addresses(count, v6_every=8):
    """`count` distinct addresses, every `v6_every`-th IPv6, each IPv6 in a
    /64 of its own (2001:db8::/32), the others in 10.0.0.0/8."""
    assert count % v6_every == 0
    per_class = count // v6_every
    n6, n4 = per_class, count - per_class
    octets = [str(i) for i in range(256)]
    v4 = []
    network = 1          # 10.0.1.x onwards
    while len(v4) < n4:
        prefix = "10.%d.%d." % (network >> 8, network & 255)
        v4.extend([prefix + o for o in octets[1:255]])
        network += 1
    del v4[n4:]
    hexes = ["%x" % i for i in range(65536)]
    v6 = []
    high = 1
    while len(v6) < n6:
        prefix = "2001:db8:%x:" % high
        v6.extend([prefix + h + "::1" for h in hexes])
        high += 1
    del v6[n6:]
    mixed = [None] * count
    mixed[v6_every - 1::v6_every] = v6
    for k in range(v6_every - 1):
        mixed[k::v6_every] = v4[k * per_class:(k + 1) * per_class]
    return mixed


def attacker_addresses(count):
    """Real attackers: 4 in 5 IPv4 (198.51.100.0/24), the others IPv6 in
    /64s of their own (3fff::/20); none of them a flood address."""
    return ["3fff:0:0:%x::7" % (i + 1) if i % 5 == 4 else "198.51.100.%d" % (i + 1) for i in range(count)]


class FloodPlan:
    """`lines` lines in chunks of about `chunk_lines`: the flood addresses
    round after round (so each gets lines // addresses hits, or one more),
    and each attacker's `maxretry` lines spread through one chunk of its
    own, the last at the chunk's end."""

    def __init__(self, lines, addresses, attackers, maxretry, chunk_lines=40_000):
        self.flood = flood_addresses(addresses)
        self.attackers = attacker_addresses(attackers)
        self.maxretry = maxretry
        self.flood_lines = lines - attackers * maxretry
        self.chunk_lines = chunk_lines
        self.chunks = -(-self.flood_lines // chunk_lines)
        assert self.chunks > attackers
        # Chunk 0 is flood only: the attackers come once the flood runs.
        self.attacker_of_chunk = {1 + j * (self.chunks - 1) // attackers: j for j in range(attackers)}
        assert len(self.attacker_of_chunk) == attackers
        most = -(-self.flood_lines // addresses)
        assert most < maxretry, "flood addresses must stay below maxretry"

    def chunk(self, n, when=None):
        """Chunk `n`'s text, and the attacker that reaches maxretry at its
        end (an index into self.attackers) or None."""
        stamp = (when or datetime.datetime.now()).strftime("%Y-%m-%d %H:%M:%S ")
        first = n * self.chunk_lines
        last = min(first + self.chunk_lines, self.flood_lines)
        attacker = self.attacker_of_chunk.get(n)
        parts = self.maxretry if attacker is not None else len(SHAPES)
        bounds = [first + (last - first) * k // parts for k in range(parts + 1)]
        out = []
        for k in range(parts):
            shape = SHAPES[(n + k) % len(SHAPES)]
            head, tail = (stamp + shape).split("{}")
            out.append(head)
            out.append((tail + "\n" + head).join(self.addresses(bounds[k], bounds[k + 1])))
            out.append(tail + "\n")
            if attacker is not None:
                out.append(stamp + SHAPES[k % len(SHAPES)].format(self.attackers[attacker]) + "\n")
        return "".join(out), attacker

    def addresses(self, start, stop):
        """The flood addresses of flood lines [start, stop)."""
        count = len(self.flood)
        first, last = start % count, (stop - 1) % count
        if first <= last:
            return self.flood[first:last + 1]
        return self.flood[first:] + self.flood[:last + 1]
