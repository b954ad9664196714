#!/usr/bin/env bash
# run-corpus OUTDIR [EXIM] -- write a corpus of real Exim mainlogs.
#
# EXIM is the Exim binary to run (default: `exim` on the PATH, Debian 12's
# 4.96; test/system/exim-builds/build-exim.sh prints the others'). Starts two
# Exim daemons (configs exim-A.conf and exim-B.conf beside this
# script) in a private server network namespace, drives scripted SMTP clients
# (swaks and corpus.py's raw client) from a second namespace, each simulated
# client from its own address, then writes
#   OUTDIR/mainlog-A, OUTDIR/mainlog-B   the two real mainlogs
#   OUTDIR/expect.json                   per address: role and expected hits,
#                                        and the Exim version ("exim")
# expect.json is derived from what the clients did and is cross-checked here
# against the real logs (corpus.py expect): a disagreement fails the run.
#
# Hooks for a test that runs the same corpus another way (test/system/syslog):
#   CORPUS_CONF_SED_A, CORPUS_CONF_SED_B  a sed expression for instance A's
#                                         (B's) config after @LAB@ is set
#   CORPUS_EXIM_WRAP                      a command that execs the Exim
#                                         daemons (its arguments follow)
#   CORPUS_EXTRA_DRIVE                    run in the client namespace after
#                                         the clients, with the work
#                                         directory and the client veth;
#                                         then no expect.json is written
#
# Needs root, exim4-daemon-heavy (or EXIM), swaks, openssl, iproute2, python3.
# Network traffic stays inside the two namespaces this script creates
# (10.99.0.0/16, fd00:99::/32); the host's own network is never touched.
# Everything it starts or creates is removed on exit, also on failure.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR [EXIM]" >&2; exit 2; }
[ $# -eq 1 ] || [ $# -eq 2 ] || usage
out=$1
exim_bin=${2:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
driver=$here/corpus.py

say() { printf 'run-corpus: %s\n' "$*" >&2; }
# shellcheck source-path=SCRIPTDIR source=../support/netns-lib.sh
. "$here/../support/netns-lib.sh"

needs_root "network namespaces, Exim daemons"
needs_tools swaks openssl ip python3
[ -n "$exim_bin" ] || { needs_tools exim; exim_bin=$(command -v exim); }
executables "$exim_bin"

mkdir -p "$out"
out=$(cd "$out" && pwd)

tag=ecorp$$
ns_s=${tag}s
ns_c=${tag}c
started=$(date +%s)

work_dir exim-corpus   # the Exim user must reach spool, logs and TLS files
# Every `exim` below, netns-lib's included, is the one under test: a
# set-uid copy where the Exim user can reach it, as it re-executes itself
# (exim_path) for deliveries after dropping root (a build's cache may sit
# in root's home).
mkdir "$work/bin"
install -m 4755 -o root -g root "$exim_bin" "$work/bin/exim"
export PATH=$work/bin:$PATH

# --- configuration files -----------------------------------------------------
for inst in A B; do
  d=$work/$inst
  mkdir -p "$d/spool" "$d/log" "$d/mail"
  conf_sed=CORPUS_CONF_SED_$inst
  sed -e "s|@LAB@|$work|" -e "s|@EXIM@|$work/bin/exim|" -e "${!conf_sed:-}" "$here/exim-$inst.conf" >"$d/exim.conf"
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

exim_trusted "$work/A/exim.conf" "$work/B/exim.conf"
# "Exim version 4.97.1 #0 built ...", "Library version: OpenSSL ..."
exim -C "$work/A/exim.conf" -bV >"$work/exim-bV" 2>&1
exim_version=$(sed -n 's/^Exim version \([0-9.]*\) .*/\1/p' "$work/exim-bV")
[ -n "$exim_version" ] || { cat "$work/exim-bV" >&2; fail "$exim_bin -bV names no version"; }
export CORPUS_EXIM_VERSION=$exim_version
say "Exim $exim_version ($exim_bin)"

# --- network: server namespace <-veth-> client namespace -----------------------
netns_add "$ns_s" "$ns_c"
# the servers' resolver asks a port nothing listens on: a DNS lookup (the
# sender verification of corpus.py's DNS_FAIL domain) fails at once, as a
# deferral, and no query leaves the namespace
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$(netns_etc "$ns_s" resolv.conf)"
veth "$ns_s" "${tag}vs" "$ns_c" "${tag}vc"
link_up "$ns_s" "${tag}vs" 10.99.0.1/16 10.99.0.2/16 fd00:99::1/32 fd00:99::2/32
with_prefix 16 32 <"$work/clients" | link_up "$ns_c" "${tag}vc" 10.99.0.9/16 fd00:99::9/32 -

# --- the two Exim daemons ---------------------------------------------------------
# shellcheck disable=SC2086  # the wrapper is a command and its words
ip netns exec "$ns_s" ${CORPUS_EXIM_WRAP:-} exim -C "$work/A/exim.conf" -bd -q30m
# shellcheck disable=SC2086
ip netns exec "$ns_s" ${CORPUS_EXIM_WRAP:-} exim -C "$work/B/exim.conf" -bd -q30m
wait_for 10 exim_listening "$ns_s" 10.99.0.1:25 10.99.0.1:465 10.99.0.1:587 \
  '[fd00:99::1]:25' '[fd00:99::1]:465' '[fd00:99::1]:587' \
  10.99.0.2:25 10.99.0.2:465 10.99.0.2:587 \
  '[fd00:99::2]:25' '[fd00:99::2]:465' '[fd00:99::2]:587' \
  || { say "Exim daemons did not start listening within 10 s"; cat "$work"/?/log/paniclog >&2 2>/dev/null; exit 1; }
wait_for 10 test -s "$work/A/exim.pid" -a -s "$work/B/exim.pid" || { say "no Exim pid files"; exit 1; }
say "Exim A (pid $(cat "$work/A/exim.pid")) and B (pid $(cat "$work/B/exim.pid")) listening"

# --- drive the clients ----------------------------------------------------------
# in the background + wait, so that a TERM/INT reaches the trap at once
drive_rc=0
ip netns exec "$ns_c" python3 "$driver" drive "$work" &
wait $! || drive_rc=$?
if [ -n "${CORPUS_EXTRA_DRIVE:-}" ]; then
  ip netns exec "$ns_c" "$CORPUS_EXTRA_DRIVE" "$work" "${tag}vc" &
  wait $! || drive_rc=$?
fi

# --- let every session and delivery finish, then stop the daemons -----------------
daemons="$(cat "$work/A/exim.pid") $(cat "$work/B/exim.pid")"
quiet() {
  local p
  for p in $(ns_pids "$ns_s"); do
    case " $daemons " in *" $p "*) ;; *) return 1 ;; esac
  done
  [ "$(exim -C "$work/A/exim.conf" -bpc)" = 0 ] && [ "$(exim -C "$work/B/exim.conf" -bpc)" = 0 ]
}
wait_for 30 quiet || { say "Exim still busy after 30 s (sessions or queue)"; exit 1; }
for p in $daemons; do kill -TERM "$p"; done
wait_for 10 ns_empty "$ns_s" || { say "Exim daemons did not stop within 10 s"; exit 1; }

for inst in A B; do
  if [ -s "$work/$inst/log/paniclog" ]; then
    say "paniclog of $inst is not empty:"; cat "$work/$inst/log/paniclog" >&2; exit 1
  fi
  install -m 644 "$work/$inst/log/mainlog" "$out/mainlog-$inst"
done

[ "$drive_rc" -eq 0 ] || { say "client errors (see above); logs are in $out"; exit 1; }

# --- expect.json, checked against the real logs -----------------------------------
# (not with extra sessions: they are none of corpus.py's clients)
if [ -n "${CORPUS_EXTRA_DRIVE:-}" ]; then
  say "done in $(( $(date +%s) - started )) s: $out/mainlog-A $out/mainlog-B (extra sessions: no expect.json)"
  exit 0
fi
python3 "$driver" expect "$work" "$out"
say "Exim $exim_version done in $(( $(date +%s) - started )) s: $out/mainlog-A $out/mainlog-B $out/expect.json"
