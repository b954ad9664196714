#!/usr/bin/env bash
# nft-packet-test DRIVER -- real packets through exim-ban's rules.
#
# Three network namespaces of its own (deleted on exit, also on failure):
# a server listening on 587 (and 2525, a port no jail covers), and clients
# A and B, each on its own veth link to the server. Addresses are
# 10.98.1.0/24 and fd00:98:1::/64 (A), 10.98.2.0/24 and fd00:98:2::/64 (B);
# A has two IPv6 addresses in its /64. The driver runs in the server's
# namespace; the host's ruleset is never touched.
# Exits 77 (skipped) when not root or when ip/nft/python3 are missing.
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DRIVER" >&2; exit 2; }
driver=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
say() { printf 'nft-packet-test: %s\n' "$*"; }
# shellcheck source-path=SCRIPTDIR source=../support/netns-lib.sh
. "$here/../support/netns-lib.sh"

needs_root "network namespaces, nf_tables"
needs_tools ip nft python3
executables "$driver"

srv=eb-srv-$$
cla=eb-cla-$$
clb=eb-clb-$$

set -e
# No duplicate address detection (netns_add): addresses (link-local ones
# too) are usable at once, so neighbour discovery cannot stall the first
# probes. On exit the listener goes with the server's namespace.
netns_add "$srv" "$cla" "$clb"
veth "$srv" eb-a-$$ "$cla" a0
veth "$srv" eb-b-$$ "$clb" b0
link_up "$srv" eb-a-$$ 10.98.1.1/24 fd00:98:1::1/64
link_up "$srv" eb-b-$$ 10.98.2.1/24 fd00:98:2::1/64
link_up "$cla" a0 10.98.1.2/24 fd00:98:1::2/64 fd00:98:1::3/64
link_up "$clb" b0 10.98.2.2/24 fd00:98:2::2/64
set +e

ip netns exec "$srv" "$here/tcp-probe.py" listen 587 2525 >/dev/null &

probe() { # NS SRC DST [PORT]
  ip netns exec "$1" "$here/tcp-probe.py" connect "$2" "$3" "${4:-587}"
}
srv_driver() { ip netns exec "$srv" "$driver" "$@"; }

passed=0
failed=0
expect() { # NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then
    echo "PASS: $1"; passed=$((passed + 1))
  else
    echo "FAIL: $1 (expected '$2', got '$3')"; failed=$((failed + 1))
  fi
}
# All five clients: A and B over IPv4, A (two addresses) and B over IPv6.
everyone() {
  echo "$(probe "$cla" 10.98.1.2 10.98.1.1) $(probe "$clb" 10.98.2.2 10.98.2.1)" \
       "$(probe "$cla" fd00:98:1::2 fd00:98:1::1) $(probe "$cla" fd00:98:1::3 fd00:98:1::1)" \
       "$(probe "$clb" fd00:98:2::2 fd00:98:2::1)"
}

# The listener and the links come up in a moment: wait, bounded.
for _ in $(seq 1 10); do
  [ "$(everyone)" = "ok ok ok ok ok" ] && break
  sleep 0.2
done

jail=(--jail exim:25,465,587:drop:64)
srv_driver "${jail[@]}" setup >/dev/null
expect "with the jail set up and no ban everyone connects" "ok ok ok ok ok" "$(everyone)"

srv_driver "${jail[@]}" ban exim 10.98.1.2 600000 >/dev/null
expect "A's IPv4 address banned: A cannot connect over IPv4, B and IPv6 can" \
  "timeout ok ok ok ok" "$(everyone)"
expect "the ban holds only on the jail's ports" "ok" "$(probe "$cla" 10.98.1.2 10.98.1.1 2525)"

srv_driver "${jail[@]}" ban exim fd00:98:1::2 600000 >/dev/null
expect "one IPv6 address banned: another address of its /64 is blocked, another /64 is not" \
  "timeout ok timeout timeout ok" "$(everyone)"

packets=$(srv_driver list --json | python3 -c 'import json,sys
for e in json.load(sys.stdin)["elements"]:
    if e["element"] == "10.98.1.2":
        print("counted" if e["packets"] > 0 and e["bytes"] > 0 else "not counted")')
expect "the element counts the packets it blocked" "counted" "$packets"

srv_driver "${jail[@]}" unban exim 10.98.1.2 >/dev/null
expect "unban restores A over IPv4" "ok ok timeout timeout ok" "$(everyone)"
srv_driver "${jail[@]}" unban exim fd00:98:1::3 >/dev/null
expect "unban of another address of the /64 restores A over IPv6" "ok ok ok ok ok" "$(everyone)"

# blocktype = reject: refused at once instead of a silent drop.
reject=(--jail exim:587:reject:64)
srv_driver "${reject[@]}" ban exim 10.98.1.2 600000 >/dev/null
expect "with reject, a banned client is refused, not left waiting" \
  "refused ok ok ok ok" "$(everyone)"

say "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
