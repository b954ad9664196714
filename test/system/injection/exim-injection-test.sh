#!/usr/bin/env bash
# exim-injection-test BAND BANCTL -- crafted client text through a real Exim
# 4.96, its real mainlog through the real exim-band (nftables).
#
# Two network namespaces: the server (Debian's exim4-daemon-heavy with
# exim-injection.conf; later exim-band) and the client (one address per
# crafted session, and an identd). exim_injection.py drive sends the crafted
# HELO/EHLO, AUTH users, commands, MAIL FROM/RCPT TO, idents and early
# input; once Exim is idle, exim_injection.py check runs exim-band on the
# finished mainlog with a jail per exim mode and maxretry 1 and asserts on
# the kernel's sets: no address but the clients' is banned, and each client
# is banned in exactly the modes its own failures call for. Prints how many
# crafted inputs Exim let through to the log and how many it refused or
# rewrote.
#
# Exits 0 on pass, 77 (skip) when not root or exim or nft is missing, 1 on
# failure. Everything it makes is removed on every exit path (set
# EXIM_BAN_KEEP_WORK=1 to keep the work directory: mainlog, sessions.json,
# exim-band's log).
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 BAND BANCTL" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
driver=$here/exim_injection.py
say() { printf 'exim-injection: %s\n' "$*"; }
# shellcheck source-path=SCRIPTDIR source=../support/netns-lib.sh
. "$here/../support/netns-lib.sh"

needs_root "network namespaces, nftables, Exim"
needs_tools exim nft
band=$(readlink -f "$1") banctl=$(readlink -f "$2")

tag=einj$$
ns_s=${tag}s ns_c=${tag}c
started=$SECONDS

work_dir exim-injection
tail_on_failure "$work/log/mainlog" 30
tail_on_failure "$work/band/exim-band.log" 20
mkdir -p "$work/spool" "$work/log" "$work/mail"
sed "s|@WORK@|$work|" "$here/exim-injection.conf" >"$work/exim.conf"
printf 'alice: alice-Secret-1\n' >"$work/passwd"
chmod 644 "$work/exim.conf" "$work/passwd"
chown -R Debian-exim:Debian-exim "$work/spool" "$work/log" "$work/mail"
exim_trusted "$work/exim.conf"

# server 192.0.2.1, 2001:db8:5e::1 <-veth-> client: one address per session
netns_add "$ns_s" "$ns_c"
veth "$ns_s" "${tag}s" "$ns_c" "${tag}c"
link_up "$ns_s" "${tag}s" 192.0.2.1/24 2001:db8:5e::1/64
ip -n "$ns_s" route add 203.0.113.0/24 dev "${tag}s"
ip -n "$ns_s" route add 2001:db8:bad::/48 dev "${tag}s"
python3 "$driver" addresses | with_prefix 32 128 | link_up "$ns_c" "${tag}c" -
ip -n "$ns_c" route add 192.0.2.0/24 dev "${tag}c"
ip -n "$ns_c" route add 2001:db8:5e::/64 dev "${tag}c"

ip netns exec "$ns_s" exim -C "$work/exim.conf" -bd -q30m
wait_for 10 exim_listening "$ns_s" 0.0.0.0:25 0.0.0.0:587 0.0.0.0:2525 0.0.0.0:2587 '[::]:25' \
  || fail "Exim did not listen within 10 s"
wait_for 10 test -s "$work/exim.pid" || fail "Exim wrote no pid file within 10 s"

# in the background + wait, so that a TERM/INT reaches the trap at once
ip netns exec "$ns_s" python3 "$driver" drive "$work" "$ns_c" &
wait $! || fail "the crafted sessions failed"

# Exim idle: only its daemon left in the namespace, nothing queued; then stop it
daemon_pid=$(cat "$work/exim.pid")
quiet() {
  [ "$(ns_pids "$ns_s" | grep -vx "$daemon_pid")" = "" ] && [ "$(exim -C "$work/exim.conf" -bpc)" = 0 ]
}
wait_for 20 quiet || fail "Exim still busy 20 s after the last session"
kill -TERM "$daemon_pid"
wait_for 10 ns_empty "$ns_s" || fail "Exim did not stop within 10 s"
[ -s "$work/log/paniclog" ] && { cat "$work/log/paniclog"; fail "Exim's paniclog is not empty"; }

rc=0
ip netns exec "$ns_s" python3 "$driver" check "$work" "$band" "$banctl" &
wait $! || rc=$?
say "took $((SECONDS - started)) s"
exit "$rc"
