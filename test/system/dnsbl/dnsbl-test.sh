#!/usr/bin/env bash
# dnsbl-test BAND BANCTL MONITOR -- a ban on one Exim host reaches the site's
# other Exim hosts over DNS: exim-band's dnsbl_zone, Debian's rbldnsd and
# Exim's dnslists (see README.md beside this file).
#
# Four network namespaces on one bridge: host A (Exim + exim-band run as the
# package runs it, nftables, dnsbl_zone), the DNS host (rbldnsd serving A's
# zone file), host B (a second Exim whose connect ACL has
# `dnslists = bl.exim-ban.test`, its resolver the DNS host) and the test's
# own, which holds the bridge and the bot. dnsbl.py (run inside A) drives
# the bot and asserts. BAND is exim-band, BANCTL exim-banctl, MONITOR
# live_bench_monitor (test/bench).
#
# Exits 0 on pass, 77 (skip) only when not root or when exim, swaks, nft,
# rbldnsd or setpriv is missing, 1 on failure (the reason, then the tails of
# the logs). Everything it makes is removed on every exit path, also on
# TERM/INT.
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: $0 BAND BANCTL MONITOR" >&2; exit 2; }
band=$1 banctl=$2 monitor=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
driver=$here/dnsbl.py

say() { printf 'dnsbl: %s\n' "$*"; }
# shellcheck source-path=SCRIPTDIR source=../support/netns-lib.sh
. "$here/../support/netns-lib.sh"

needs_root "network namespaces, nftables, Exim daemons"
needs_tools exim swaks nft setpriv
command -v rbldnsd >/dev/null 2>&1 || { say "SKIP: rbldnsd is not installed (apt-get install rbldnsd)"; exit 77; }
getent passwd rbldns >/dev/null || { say "SKIP: no user rbldns (Debian's rbldnsd package makes it)"; exit 77; }
have_tools ip python3 flock awk
executables "$band" "$banctl" "$monitor"
band=$(readlink -f "$band") banctl=$(readlink -f "$banctl") monitor=$(readlink -f "$monitor")

tag=ednsbl$$
ns_a=${tag}a ns_b=${tag}b ns_d=${tag}d ns_x=${tag}x
work_dir dnsbl   # Exim's user, exim-band's and rbldnsd's reach their files
for f in exim-band.log A/log/mainlog rbldnsd.log B/log/mainlog; do tail_on_failure "$work/$f" 30; done
for f in A/log/paniclog B/log/paniclog; do tail_if_written "$work/$f" 20; done

# --- the two Exims' files (A's log as Debian has it: exim-band reads it
# through group adm) ----------------------------------------------------------------
for h in A B; do exim_debian_dirs "$work/$h" "$here/exim-dnsbl-$h.conf"; done
printf 'alice: alice-dnsbl-Secret-1\n' >"$work/passwd"
chmod 644 "$work/passwd"

exim_trusted "$work/A/exim.conf" "$work/B/exim.conf"

# --- network: one bridge (in the test's namespace, with the bot on it) ------------
#   A 10.96.0.1 fd00:96::1 | B 10.96.0.2 fd00:96::2 | DNS 10.96.0.53 fd00:96::53
#   bot 10.96.1.10, fd00:96:1::a and fd00:96:1::b (its own /64), all on fd00:96::/32
netns_add "$ns_a" "$ns_b" "$ns_d" "$ns_x"
# A: the package's user exim-ban, and Debian-exim in adm; B: its resolver
netns_package_users "$ns_a"
printf 'nameserver 10.96.0.53\noptions timeout:1 attempts:2\n' >"$(netns_etc "$ns_b" resolv.conf)"
ip -n "$ns_x" link add br0 type bridge
ip -n "$ns_x" link set br0 up
for pair in "a:$ns_a:10.96.0.1:fd00:96::1" "b:$ns_b:10.96.0.2:fd00:96::2" "d:$ns_d:10.96.0.53:fd00:96::53"; do
  IFS=: read -r h ns v4 v6 <<<"$pair"    # v6: the rest, colons and all
  veth "$ns_x" "${tag}x$h" "$ns" "${tag}$h"
  ip -n "$ns_x" link set "${tag}x$h" master br0 up
  link_up "$ns" "${tag}$h" "$v4/16" "$v6/32"
done
link_up "$ns_x" br0 10.96.1.10/16 fd00:96:1::a/32 fd00:96:1::b/32

# --- the two Exims ------------------------------------------------------------------
ip netns exec "$ns_a" exim -C "$work/A/exim.conf" -bd -q30m
ip netns exec "$ns_b" exim -C "$work/B/exim.conf" -bd -q30m
wait_for 10 exim_listening "$ns_a" 10.96.0.1:25 10.96.0.1:587 '[fd00:96::1]:25' '[fd00:96::1]:587' \
  || fail "Exim A did not listen on 25 and 587 (v4 and v6) within 10 s"
wait_for 10 exim_listening "$ns_b" 10.96.0.2:25 '[fd00:96::2]:25' || fail "Exim B did not listen on 25 within 10 s"
wait_for 10 test -s "$work/A/exim.pid" || fail "Exim A wrote no pid file within 10 s"
wait_for 10 test -s "$work/B/exim.pid" || fail "Exim B wrote no pid file within 10 s"
say "Exim $(exim -bV 2>/dev/null | sed -n '1s/^Exim version \([^ ]*\).*/\1/p') on A ($ns_a: 25, 587, AUTH) and B ($ns_b: 25, dnslists); rbldnsd $(dpkg-query -W -f '${Version}' rbldnsd 2>/dev/null || echo '?') for the DNS host ($ns_d)"

# --- the test (in the background + wait, so that TERM/INT reach the trap) --------
rc=0
ip netns exec "$ns_a" python3 "$driver" run "$work" "$band" "$banctl" "$monitor" "$ns_b" "$ns_d" "$ns_x" &
wait $! || rc=$?
[ "$rc" -eq 0 ] || exit 1
