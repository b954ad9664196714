#!/usr/bin/env bash
# exim-sqlite-acl-test BAND BANCTL MONITOR -- a real Exim reads exim-ban's
# live database in its connect ACL, with docs/exim-integration.md's recipe
# (see README.md beside this file).
#
# Two network namespaces: the server (Debian's exim4-daemon-heavy with
# exim-sqlite-acl.conf and the docs' connect ACL; exim-band run as the
# package runs it: user exim-ban, group adm, umask 0027, nftables) and the
# clients, linked by a veth pair, IPv4 and IPv6. acl.py (run inside the
# server namespace) drives the clients and asserts. BAND is exim-band,
# BANCTL exim-banctl, MONITOR live_bench_monitor (test/bench).
#
# Exits 0 on pass, 77 (skip) only when not root or when exim (with sqlite
# lookups), nft or setpriv is missing, 1 on failure (the reason, then the
# tails of exim-band's log and of Exim's mainlog). Everything it makes is
# removed on every exit path, also on TERM/INT.
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: $0 BAND BANCTL MONITOR" >&2; exit 2; }
band=$1 banctl=$2 monitor=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
driver=$here/acl.py
docs=$(cd "$here/../../.." && pwd)/docs/exim-integration.md

say() { printf 'exim-sqlite-acl: %s\n' "$*"; }
# shellcheck source-path=SCRIPTDIR source=../support/netns-lib.sh
. "$here/../support/netns-lib.sh"

needs_root "network namespaces, nftables, Exim daemons"
needs_tools exim nft setpriv
bV=$(exim -bV 2>/dev/null || true)
if ! grep -q '^Lookups.*\bsqlite\b' <<<"$bV"; then
  say "SKIP: this Exim has no sqlite lookup (exim4-daemon-heavy has it)"; exit 77
fi
have_tools ip python3 flock awk
executables "$band" "$banctl" "$monitor"
band=$(readlink -f "$band") banctl=$(readlink -f "$banctl") monitor=$(readlink -f "$monitor")

tag=esql$$
ns_s=${tag}s ns_c=${tag}c
work_dir exim-sqlite-acl   # Exim's user reaches spool and logs; exim-band its dirs
tail_on_failure "$work/exim-band.log"
tail_on_failure "$work/log/mainlog"
tail_if_written "$work/log/paniclog" 20

# --- Exim's files: the log directory as Debian has it (Debian-exim:adm 2750,
# mainlog 0640), which exim-band reads through group adm -----------------------
exim_debian_dirs "$work" "$here/exim-sqlite-acl.conf"
# the connect ACL, from the docs (paths and threshold changed)
python3 "$driver" acl "$work" "$docs" || fail "cannot take the connect ACL from $docs"

exim_trusted "$work/exim.conf"

# --- network: clients <-veth-> server ----------------------------------------------
#   server 10.97.0.1/24  fd00:97::1/64 (+ fd00:97::/32 on the link)
#   clients 10.97.0.11-.14, fd00:97:5::a ::b, fd00:97:6::a ::b, fd00:97:7::a
netns_add "$ns_s" "$ns_c"
# the server namespace's users and groups: exim-ban, and Debian-exim in adm
netns_package_users "$ns_s"
veth "$ns_s" "${tag}sc" "$ns_c" "${tag}cs"
link_up "$ns_s" "${tag}sc" 10.97.0.1/24 fd00:97::1/64
ip -n "$ns_s" route add fd00:97::/32 dev "${tag}sc"
python3 "$driver" addresses | with_prefix 24 64 | link_up "$ns_c" "${tag}cs" -
ip -n "$ns_c" route add fd00:97::/32 dev "${tag}cs"

# --- Exim (its receiving processes run as Debian-exim, with the groups the
# namespace's /etc/group gives it) ---------------------------------------------------
ip netns exec "$ns_s" exim -C "$work/exim.conf" -bd -q30m
wait_for 10 exim_listening "$ns_s" 0.0.0.0:25 '[::]:25' || fail "Exim did not listen on 25 (v4 and v6) within 10 s"
wait_for 10 test -s "$work/exim.pid" || fail "Exim wrote no pid file within 10 s"
say "Exim $(exim -bV 2>/dev/null | sed -n '1s/^Exim version \([^ ]*\).*/\1/p') (pid $(cat "$work/exim.pid")) listening on 25 in namespace $ns_s"

# --- the test (in the background + wait, so that TERM/INT reach the trap) --------
rc=0
ip netns exec "$ns_s" python3 "$driver" run "$work" "$band" "$banctl" "$monitor" "$ns_c" &
wait $! || rc=$?
[ "$rc" -eq 0 ] || exit 1
