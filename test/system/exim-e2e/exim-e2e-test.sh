#!/usr/bin/env bash
# exim-e2e-test BAND BANCTL MONITOR -- exim-band against a real Exim under a
# real password-guessing attack, end to end (see README.md beside this file).
#
# Builds three network namespaces: the server (Debian's exim4-daemon-heavy
# with exim-e2e.conf, and exim-band with the real nftables backend following
# that Exim's mainlog), the bot and the user, each linked to the server by a
# veth pair, IPv4 and IPv6. e2e.py (run inside the server namespace) then
# drives the user and the bot, and asserts. BAND is exim-band, BANCTL
# exim-banctl, MONITOR live_bench_monitor (test/bench).
#
# Exits 0 on pass (a summary line of figures), 77 (skip) only when not root
# or when exim, swaks or nft is missing, 1 on failure (the reason, then the
# tails of exim-band's log and of Exim's mainlog).
# Everything it makes is removed on every exit path, also on TERM/INT.
set -euo pipefail

[ $# -eq 3 ] || { echo "usage: $0 BAND BANCTL MONITOR" >&2; exit 2; }
band=$1 banctl=$2 monitor=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
driver=$here/e2e.py

say() { printf 'exim-e2e: %s\n' "$*"; }
# shellcheck source-path=SCRIPTDIR source=../support/netns-lib.sh
. "$here/../support/netns-lib.sh"

needs_root "network namespaces, nftables, Exim daemons"
needs_tools exim swaks nft
have_tools ip openssl python3 flock
executables "$band" "$banctl" "$monitor"
band=$(readlink -f "$band") banctl=$(readlink -f "$banctl") monitor=$(readlink -f "$monitor")

tag=ee2e$$
ns_s=${tag}s ns_b=${tag}b ns_u=${tag}u

work_dir exim-e2e   # the Exim user must reach spool, logs, TLS files and lists
tail_on_failure "$work/band/exim-band.log"
tail_on_failure "$work/log/mainlog"
tail_if_written "$work/log/paniclog" 20

# --- Exim's files -------------------------------------------------------------
mkdir -p "$work/spool" "$work/log" "$work/mail" "$work/tls"
sed "s|@WORK@|$work|" "$here/exim-e2e.conf" >"$work/exim.conf"
chmod 644 "$work/exim.conf"
# the follower and exim-band watch the mainlog from the start
install -o Debian-exim -g Debian-exim -m 640 /dev/null "$work/log/mainlog"
chown -R Debian-exim:Debian-exim "$work/spool" "$work/log" "$work/mail"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$work/tls/key.pem" -out "$work/tls/cert.pem" -days 2 \
  -subj "/CN=mx.e2e.example" -addext "subjectAltName=DNS:mx.e2e.example" 2>/dev/null
chmod 644 "$work/tls/key.pem" "$work/tls/cert.pem"
python3 "$driver" files "$work" >"$work/bot-addresses"   # passwd, allow files
chmod -R a+rX "$work/passwd" "$work/submission-hosts" "$work/auth-hosts"

exim_trusted "$work/exim.conf"

# --- network: bot <-veth-> server <-veth-> user ---------------------------------
#   server 10.98.1.1  fd00:98:1::1/64 | bot 10.98.1.2 fd00:98:1::2 (home), and
#          the attack addresses 10.98.1.N and fd00:98:1:N::a, ::b (one /64 each)
#   server 10.98.2.1  fd00:98:2::1/64 | user 10.98.2.2 fd00:98:2::2
netns_add "$ns_s" "$ns_b" "$ns_u"
veth "$ns_s" "${tag}sb" "$ns_b" "${tag}bs"
veth "$ns_s" "${tag}su" "$ns_u" "${tag}us"
link_up "$ns_s" "${tag}sb" 10.98.1.1/24 fd00:98:1::1/64
link_up "$ns_s" "${tag}su" 10.98.2.1/24 fd00:98:2::1/64
# the bot's /64s are on its link
ip -n "$ns_s" route add fd00:98:1::/48 dev "${tag}sb"
link_up "$ns_b" "${tag}bs" - <"$work/bot-addresses"
link_up "$ns_u" "${tag}us" 10.98.2.2/24 fd00:98:2::2/64

# --- Exim ------------------------------------------------------------------------
ip netns exec "$ns_s" exim -C "$work/exim.conf" -bd -q30m
wait_for 10 exim_listening "$ns_s" 0.0.0.0:25 0.0.0.0:465 0.0.0.0:587 '[::]:25' '[::]:465' '[::]:587' \
  || fail "Exim did not listen on 25, 465 and 587 (v4 and v6) within 10 s"
wait_for 10 test -s "$work/exim.pid" || fail "Exim wrote no pid file within 10 s"
say "Exim $(exim -bV 2>/dev/null | sed -n '1s/^Exim version \([^ ]*\).*/\1/p') (pid $(cat "$work/exim.pid")) listening on 25, 465, 587 in namespace $ns_s"

# --- the test ----------------------------------------------------------------------
# in the background + wait, so that a TERM/INT reaches the trap at once
rc=0
ip netns exec "$ns_s" python3 "$driver" run "$work" "$band" "$banctl" "$monitor" "$ns_b" "$ns_u" &
wait $! || rc=$?
[ "$rc" -eq 0 ] || exit 1
