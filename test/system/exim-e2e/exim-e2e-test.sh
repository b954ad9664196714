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

if [ "$(id -u)" -ne 0 ]; then
  say "SKIP: needs root (network namespaces, nftables, Exim daemons)"; exit 77
fi
for tool in exim swaks nft; do
  command -v "$tool" >/dev/null 2>&1 || { say "SKIP: $tool is not installed (packaging/install-deps installs it)"; exit 77; }
done
for tool in ip openssl python3 flock; do
  command -v "$tool" >/dev/null 2>&1 || { say "FAIL: $tool not found"; exit 1; }
done
for f in "$band" "$banctl" "$monitor"; do
  [ -x "$f" ] || { say "FAIL: $f is not an executable"; exit 1; }
done
band=$(readlink -f "$band") banctl=$(readlink -f "$banctl") monitor=$(readlink -f "$monitor")

trusted=/etc/exim4/trusted_configs
tag=ee2e$$
ns_s=${tag}s ns_b=${tag}b ns_u=${tag}u
work=""
trusted_added=0
status_shown=0

# poll CMD... until it succeeds, at most $1 seconds
wait_for() {
  local limit=$1; shift
  local deadline=$((SECONDS + limit))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.05
  done
}

ns_pids() { ip netns pids "$1" 2>/dev/null || true; }
ns_empty() { [ -z "$(ns_pids "$1")" ]; }

# End every process in namespace $1 (all of them were started by this
# script there): TERM, wait up to 5 s, then KILL.
stop_ns_procs() {
  local ns=$1 pid
  ip netns list 2>/dev/null | grep -qw "$ns" || return 0
  for pid in $(ns_pids "$ns"); do kill -TERM "$pid" 2>/dev/null || true; done
  if ! wait_for 5 ns_empty "$ns"; then
    for pid in $(ns_pids "$ns"); do kill -KILL "$pid" 2>/dev/null || true; done
    wait_for 5 ns_empty "$ns" || say "warning: processes left in $ns"
  fi
}

# /etc/exim4/trusted_configs, as test/system/exim-corpus/run-corpus.sh keeps it:
# Exim compares each line with the config path, so the marker comment is
# inert; a file this script created is deleted once no other entry is left.
# (the same marker as run-corpus's, so that either script may delete the file)
trusted_mark="# created by exim-ban's test/system/exim-corpus/run-corpus; deleted when no other entry is left"
trusted_edit() {  # trusted_edit add|remove PATH...
  local op=$1; shift
  (
    flock -w 10 9 || { say "cannot lock /etc/exim4"; exit 1; }
    if [ "$op" = add ]; then
      if [ ! -e "$trusted" ]; then
        install -m 644 /dev/null "$trusted"
        printf '%s\n' "$trusted_mark" >>"$trusted"
      fi
      printf '%s\n' "$@" >>"$trusted"
    else
      [ -f "$trusted" ] || exit 0
      local tmp p
      tmp=$(mktemp "$trusted.XXXXXX")
      cp "$trusted" "$tmp"
      for p in "$@"; do grep -vxF -- "$p" "$tmp" >"$tmp.n" || true; mv "$tmp.n" "$tmp"; done
      if [ "$(grep -cvxF -- "$trusted_mark" "$tmp")" = 0 ] && grep -qxF -- "$trusted_mark" "$tmp"; then
        rm -f "$tmp" "$trusted"
      else
        chmod --reference="$trusted" "$tmp"; mv "$tmp" "$trusted"
      fi
    fi
  ) 9</etc/exim4
}

show_tails() {
  [ "$status_shown" -eq 0 ] && [ -n "$work" ] || return 0
  status_shown=1
  echo "----- tail of exim-band's log ($work/band/exim-band.log) -----"
  tail -n 40 "$work/band/exim-band.log" 2>/dev/null || echo "(none)"
  echo "----- tail of Exim's mainlog ($work/log/mainlog) -----"
  tail -n 40 "$work/log/mainlog" 2>/dev/null || echo "(none)"
  if [ -s "$work/log/paniclog" ]; then
    echo "----- Exim's paniclog -----"; tail -n 20 "$work/log/paniclog"
  fi
  echo "-----"
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && show_tails
  stop_ns_procs "$ns_s"
  stop_ns_procs "$ns_b"
  stop_ns_procs "$ns_u"
  # the namespaces go, and with the server's its table inet exim_ban
  ip netns del "$ns_s" 2>/dev/null
  ip netns del "$ns_b" 2>/dev/null
  ip netns del "$ns_u" 2>/dev/null
  if [ -n "$work" ]; then
    [ "$trusted_added" -eq 1 ] && trusted_edit remove "$work/exim.conf"
    if [ -n "${EXIM_E2E_KEEP:-}" ]; then say "kept $work"; else rm -rf "$work"; fi
  fi
  [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && rc=1
  exit $rc
}
trap cleanup EXIT
trap 'say "FAIL: interrupted"; exit 130' INT
trap 'say "FAIL: terminated"; exit 143' TERM

fail() { say "FAIL: $*"; exit 1; }

work=$(mktemp -d /tmp/exim-e2e.XXXXXX)
chmod 755 "$work"   # the Exim user must reach spool, logs, TLS files and lists

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

trusted_added=1
trusted_edit add "$work/exim.conf"
exim -C "$work/exim.conf" -bV >"$work/bV.out" 2>&1 || { cat "$work/bV.out"; fail "exim rejects $work/exim.conf"; }

# --- network: bot <-veth-> server <-veth-> user ---------------------------------
#   server 10.98.1.1  fd00:98:1::1/64 | bot 10.98.1.2 fd00:98:1::2 (home), and
#          the attack addresses 10.98.1.N and fd00:98:1:N::a, ::b (one /64 each)
#   server 10.98.2.1  fd00:98:2::1/64 | user 10.98.2.2 fd00:98:2::2
for ns in "$ns_s" "$ns_b" "$ns_u"; do
  ip netns add "$ns"
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip -n "$ns" link set lo up
done
ip link add "${tag}sb" netns "$ns_s" type veth peer name "${tag}bs" netns "$ns_b"
ip link add "${tag}su" netns "$ns_s" type veth peer name "${tag}us" netns "$ns_u"
{
  echo "addr add 10.98.1.1/24 dev ${tag}sb"
  echo "addr add fd00:98:1::1/64 dev ${tag}sb nodad"
  echo "addr add 10.98.2.1/24 dev ${tag}su"
  echo "addr add fd00:98:2::1/64 dev ${tag}su nodad"
  echo "link set ${tag}sb up"
  echo "link set ${tag}su up"
  # the bot's /64s are on its link
  echo "route add fd00:98:1::/48 dev ${tag}sb"
} | ip -n "$ns_s" -batch -
{
  while read -r a; do
    case $a in
      *:*) echo "addr add $a dev ${tag}bs nodad" ;;
      *) echo "addr add $a dev ${tag}bs" ;;
    esac
  done <"$work/bot-addresses"
  echo "link set ${tag}bs up"
} | ip -n "$ns_b" -batch -
{
  echo "addr add 10.98.2.2/24 dev ${tag}us"
  echo "addr add fd00:98:2::2/64 dev ${tag}us nodad"
  echo "link set ${tag}us up"
} | ip -n "$ns_u" -batch -

# --- Exim ------------------------------------------------------------------------
listening() {
  local have want
  have=$(ip netns exec "$ns_s" ss -ltnH 2>/dev/null | awk '{print $4}')
  for want in 0.0.0.0:25 0.0.0.0:465 0.0.0.0:587 '[::]:25' '[::]:465' '[::]:587'; do
    grep -qxF -- "$want" <<<"$have" || return 1
  done
}
ip netns exec "$ns_s" exim -C "$work/exim.conf" -bd -q30m
wait_for 10 listening || fail "Exim did not listen on 25, 465 and 587 (v4 and v6) within 10 s"
wait_for 10 test -s "$work/exim.pid" || fail "Exim wrote no pid file within 10 s"
say "Exim $(exim -bV 2>/dev/null | sed -n '1s/^Exim version \([^ ]*\).*/\1/p') (pid $(cat "$work/exim.pid")) listening on 25, 465, 587 in namespace $ns_s"

# --- the test ----------------------------------------------------------------------
# in the background + wait, so that a TERM/INT reaches the trap at once
rc=0
ip netns exec "$ns_s" python3 "$driver" run "$work" "$band" "$banctl" "$monitor" "$ns_b" "$ns_u" &
wait $! || rc=$?
[ "$rc" -eq 0 ] || exit 1
