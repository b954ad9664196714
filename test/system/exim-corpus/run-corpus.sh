#!/usr/bin/env bash
# run-corpus OUTDIR -- write a corpus of real Exim 4.96 mainlogs.
#
# Starts two Exim daemons (configs exim-A.conf and exim-B.conf beside this
# script) in a private server network namespace, drives scripted SMTP clients
# (swaks and corpus.py's raw client) from a second namespace, each simulated
# client from its own address, then writes
#   OUTDIR/mainlog-A, OUTDIR/mainlog-B   the two real mainlogs
#   OUTDIR/expect.json                   per address: role and expected hits
# expect.json is derived from what the clients did and is cross-checked here
# against the real logs (corpus.py expect): a disagreement fails the run.
#
# Needs root, exim4-daemon-heavy, swaks, openssl, iproute2, python3.
# Network traffic stays inside the two namespaces this script creates
# (10.99.0.0/16, fd00:99::/32); the host's own network is never touched.
# Everything it starts or creates is removed on exit, also on failure.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
out=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
driver=$here/corpus.py

[ "$(id -u)" -eq 0 ] || { echo "run-corpus: needs root (network namespaces, Exim daemons)" >&2; exit 77; }
for tool in exim swaks openssl ip python3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "run-corpus: $tool not found" >&2; exit 77; }
done

mkdir -p "$out"
out=$(cd "$out" && pwd)

trusted=/etc/exim4/trusted_configs
tag=ecorp$$
ns_s=${tag}s
ns_c=${tag}c
work=""
trusted_added=0
started=$(date +%s)

log() { printf 'run-corpus: %s\n' "$*" >&2; }

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

# End every process that lives in namespace $1 (all of them were started by
# this script there): TERM, wait up to 5 s, then KILL.
stop_ns_procs() {
  local ns=$1 pid
  ip netns list 2>/dev/null | grep -qw "$ns" || return 0
  for pid in $(ns_pids "$ns"); do kill -TERM "$pid" 2>/dev/null || true; done
  if ! wait_for 5 ns_empty "$ns"; then
    for pid in $(ns_pids "$ns"); do kill -KILL "$pid" 2>/dev/null || true; done
    wait_for 5 ns_empty "$ns" || log "warning: processes left in $ns"
  fi
}

# Exim compares each line of trusted_configs with the config path, so a
# comment line is inert; it marks a file this script created, to be deleted
# once no other entry is left (several runs may share it).
trusted_mark="# created by exim-ban's test/system/exim-corpus/run-corpus; deleted when no other entry is left"
trusted_edit() {  # trusted_edit add|remove PATH...
  local op=$1; shift
  (
    flock -w 10 9 || { log "cannot lock /etc/exim4"; exit 1; }
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

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  stop_ns_procs "$ns_s"
  stop_ns_procs "$ns_c"
  ip netns del "$ns_s" 2>/dev/null
  ip netns del "$ns_c" 2>/dev/null
  if [ -n "$work" ]; then
    [ "$trusted_added" -eq 1 ] && trusted_edit remove "$work/A/exim.conf" "$work/B/exim.conf"
    rm -rf "$work"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

work=$(mktemp -d /tmp/exim-corpus.XXXXXX)
chmod 755 "$work"   # the Exim user must reach spool, logs and TLS files

# --- configuration files -----------------------------------------------------
for inst in A B; do
  d=$work/$inst
  mkdir -p "$d/spool" "$d/log" "$d/mail"
  sed "s|@LAB@|$work|" "$here/exim-$inst.conf" >"$d/exim.conf"
  chmod 644 "$d/exim.conf"
  chown -R Debian-exim:Debian-exim "$d/spool" "$d/log" "$d/mail"
done
mkdir -p "$work/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$work/tls/key.pem" -out "$work/tls/cert.pem" -days 2 \
  -subj "/CN=mx.lab.example" \
  -addext "subjectAltName=DNS:mx-a.lab.example,DNS:mx-b.lab.example" 2>/dev/null
chmod 644 "$work/tls/key.pem" "$work/tls/cert.pem"
# passwd, allow files, the SQLite blacklist; prints the client addresses
python3 "$driver" setup "$work" >"$work/clients"
chmod -R a+rX "$work"

trusted_added=1
trusted_edit add "$work/A/exim.conf" "$work/B/exim.conf"

for inst in A B; do
  exim -C "$work/$inst/exim.conf" -bV >"$work/$inst/bV.out" 2>&1 || {
    cat "$work/$inst/bV.out" >&2; log "exim rejects config $inst"; exit 1; }
done

# --- network: server namespace <-veth-> client namespace -----------------------
ip netns add "$ns_s"
ip netns add "$ns_c"
ip link add "${tag}vs" netns "$ns_s" type veth peer name "${tag}vc" netns "$ns_c"
for ns in "$ns_s" "$ns_c"; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  ip -n "$ns" link set lo up
done
{
  echo "addr add 10.99.0.1/16 dev ${tag}vs"
  echo "addr add 10.99.0.2/16 dev ${tag}vs"
  echo "addr add fd00:99::1/32 dev ${tag}vs nodad"
  echo "addr add fd00:99::2/32 dev ${tag}vs nodad"
  echo "link set ${tag}vs up"
} | ip -n "$ns_s" -batch -
{
  echo "addr add 10.99.0.9/16 dev ${tag}vc"
  echo "addr add fd00:99::9/32 dev ${tag}vc nodad"
  while read -r a; do
    case $a in
      *:*) echo "addr add $a/32 dev ${tag}vc nodad" ;;
      *) echo "addr add $a/16 dev ${tag}vc" ;;
    esac
  done <"$work/clients"
  echo "link set ${tag}vc up"
} | ip -n "$ns_c" -batch -

# --- the two Exim daemons ---------------------------------------------------------
listening() {  # listening NS ADDR:PORT...
  local ns=$1 have; shift
  have=$(ip netns exec "$ns" ss -ltnH 2>/dev/null | awk '{print $4}')
  for want in "$@"; do grep -qxF -- "$want" <<<"$have" || return 1; done
}
ip netns exec "$ns_s" exim -C "$work/A/exim.conf" -bd -q30m
ip netns exec "$ns_s" exim -C "$work/B/exim.conf" -bd -q30m
wait_for 10 listening "$ns_s" 10.99.0.1:25 10.99.0.1:465 10.99.0.1:587 \
  '[fd00:99::1]:25' '[fd00:99::1]:465' '[fd00:99::1]:587' \
  10.99.0.2:25 10.99.0.2:465 10.99.0.2:587 \
  '[fd00:99::2]:25' '[fd00:99::2]:465' '[fd00:99::2]:587' \
  || { log "Exim daemons did not start listening within 10 s"; cat "$work"/?/log/paniclog >&2 2>/dev/null; exit 1; }
wait_for 10 test -s "$work/A/exim.pid" -a -s "$work/B/exim.pid" || { log "no Exim pid files"; exit 1; }
log "Exim A (pid $(cat "$work/A/exim.pid")) and B (pid $(cat "$work/B/exim.pid")) listening"

# --- drive the clients ----------------------------------------------------------
# in the background + wait, so that a TERM/INT reaches the trap at once
drive_rc=0
ip netns exec "$ns_c" python3 "$driver" drive "$work" &
wait $! || drive_rc=$?

# --- let every session and delivery finish, then stop the daemons -----------------
daemons="$(cat "$work/A/exim.pid") $(cat "$work/B/exim.pid")"
quiet() {
  local p
  for p in $(ns_pids "$ns_s"); do
    case " $daemons " in *" $p "*) ;; *) return 1 ;; esac
  done
  [ "$(exim -C "$work/A/exim.conf" -bpc)" = 0 ] && [ "$(exim -C "$work/B/exim.conf" -bpc)" = 0 ]
}
wait_for 30 quiet || { log "Exim still busy after 30 s (sessions or queue)"; exit 1; }
for p in $daemons; do kill -TERM "$p"; done
wait_for 10 ns_empty "$ns_s" || { log "Exim daemons did not stop within 10 s"; exit 1; }

for inst in A B; do
  if [ -s "$work/$inst/log/paniclog" ]; then
    log "paniclog of $inst is not empty:"; cat "$work/$inst/log/paniclog" >&2; exit 1
  fi
  cp "$work/$inst/log/mainlog" "$out/mainlog-$inst"
done

[ "$drive_rc" -eq 0 ] || { log "client errors (see above); logs are in $out"; exit 1; }

# --- expect.json, checked against the real logs -----------------------------------
python3 "$driver" expect "$work" "$out"
log "done in $(( $(date +%s) - started )) s: $out/mainlog-A $out/mainlog-B $out/expect.json"
