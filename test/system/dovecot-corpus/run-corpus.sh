#!/usr/bin/env bash
# run-corpus OUTDIR [DOVECOT] -- write a corpus of real Dovecot logs.
#
# DOVECOT is the dovecot master binary to run (default: `dovecot` on the
# PATH, Debian 12's 2.3.19; any 2.3 or 2.4 build works, its version is asked
# with `dovecot --version`). Starts four instances of it in a private server
# network namespace -- "quiet" (auth_verbose = no, 10.98.0.1), "verbose"
# (auth_verbose = yes, 10.98.0.2), "anychars" (auth_verbose = yes and an
# empty auth_username_chars, 10.98.0.3) and "syslog" (as verbose, with
# log_path = syslog, 10.98.0.4) -- drives scripted IMAP, POP3, ManageSieve
# and submission clients (corpus.py) from a second namespace, each simulated
# client from its own address, then writes
#   OUTDIR/INSTANCE.log                    each instance's log_path file
#                                          (quiet.log, verbose.log,
#                                          anychars.log), and syslog.log: what
#                                          a private rsyslogd wrote from the
#                                          syslog instance (traditional format)
#   OUTDIR/truth.json                      every client action: address,
#                                          instance, service, account,
#                                          outcome, attempts, planted victim
#   OUTDIR/expect.json                     per address: role and the hits a
#                                          filter should count per log and mode
# The truth is what the clients did; corpus.py expect cross-checks it against
# the real logs with a reference classifier: a disagreement fails the run.
#
# Needs root, Dovecot (dovecot-imapd, -pop3d, -managesieved, -submissiond or
# a build), its users dovecot and dovenull, openssl, iproute2, python3,
# rsyslogd, unshare and logger. The syslog instance runs in a mount
# namespace whose /dev/log is the private rsyslogd's socket
# (../syslog/private-dev.sh): the host's syslog never sees its lines.
# Network traffic stays inside the two namespaces this script creates
# (10.98.0.0/16, fd00:98::/32); the host's own network is never touched.
# Everything it starts or creates is removed on exit, also on failure.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR [DOVECOT]" >&2; exit 2; }
[ $# -eq 1 ] || [ $# -eq 2 ] || usage
out=$1
dovecot_bin=${2:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
driver=$here/corpus.py

say() { printf 'run-corpus: %s\n' "$*" >&2; }
# shellcheck source-path=SCRIPTDIR source=../support/netns-lib.sh
. "$here/../support/netns-lib.sh"

needs_root "network namespaces, Dovecot daemons"
needs_tools openssl ip python3 rsyslogd unshare logger
[ -n "$dovecot_bin" ] || { needs_tools dovecot; dovecot_bin=$(command -v dovecot); }
executables "$dovecot_bin"
for u in dovecot dovenull; do
  getent passwd "$u" >/dev/null || fail "Dovecot's user $u is missing (install dovecot-core)"
done

mkdir -p "$out"
out=$(cd "$out" && pwd)

tag=dcorp$$
ns_s=${tag}s
ns_c=${tag}c
ns_log=${tag}l
instances=(quiet verbose anychars syslog)
started=$(date +%s)

work_dir dovecot-corpus
# "2.3.19.1 (9b53102964)", "2.4.4 (...)"
version=$("$dovecot_bin" --version | awk '{print $1}')
case "$version" in
  2.3.*) protocols="imap pop3 sieve submission" ;;
  # a build from upstream's core has no Pigeonhole: no ManageSieve
  2.4.*) protocols="imap pop3 submission" ;;
  *) fail "$dovecot_bin is Dovecot ${version:-?}: neither 2.3 nor 2.4" ;;
esac
export CORPUS_DOVECOT_VERSION=$version
say "Dovecot $version ($dovecot_bin), protocols $protocols"

# --- configuration files -----------------------------------------------------
mkdir -p "$work/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$work/tls/key.pem" -out "$work/tls/cert.pem" -days 2 \
  -subj "/CN=mx.lab.example" 2>/dev/null
python3 "$driver" setup "$work" "$version" "$protocols" >"$work/clients"
for inst in "${instances[@]}"; do
  tail_on_failure "$work/$inst/dovecot.log"
  "$dovecot_bin" -c "$work/$inst/dovecot.conf" -n >"$work/$inst/doveconf-n" 2>&1 \
    || { cat "$work/$inst/doveconf-n" >&2; fail "Dovecot rejects $work/$inst/dovecot.conf"; }
done

# --- network: server namespace <-veth-> client namespace -----------------------
netns_add "$ns_s" "$ns_c"
veth "$ns_s" "${tag}vs" "$ns_c" "${tag}vc"
link_up "$ns_s" "${tag}vs" 10.98.0.1/16 10.98.0.2/16 10.98.0.3/16 10.98.0.4/16 \
  fd00:98::1/32 fd00:98::2/32 fd00:98::3/32 fd00:98::4/32
with_prefix 16 32 <"$work/clients" | link_up "$ns_c" "${tag}vc" 10.98.0.9/16 fd00:98::9/32 -

# --- the syslog daemon of the syslog instance (a namespace of its own) --------------
sock=$work/syslog.sock
mkdir "$work/rsyslog"
tail_if_written "$work/rsyslogd.log" 20
cat >"$work/rsyslog.conf" <<CONF
global(workDirectory="$work/rsyslog" localHostName="mx")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$sock" RateLimit.Interval="0")
*.* action(type="omfile" file="$work/syslog/dovecot.log" template="RSYSLOG_TraditionalFileFormat")
CONF
netns_add "$ns_log"
ip netns exec "$ns_log" rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rsyslogd.pid" \
  >"$work/rsyslogd.log" 2>&1 &
rsyslogd_pid=$!
wait_for 10 test -S "$sock" || fail "rsyslogd made no socket within 10 s"

# --- the Dovecot instances ----------------------------------------------------------
listening=()
for inst in quiet verbose anychars; do
  ip netns exec "$ns_s" "$dovecot_bin" -c "$work/$inst/dovecot.conf"
done
ip netns exec "$ns_s" "$here/../syslog/private-dev.sh" "$sock" "$dovecot_bin" -c "$work/syslog/dovecot.conf"
for a in 10.98.0.1 10.98.0.2 10.98.0.3 10.98.0.4 '[fd00:98::1]' '[fd00:98::2]' '[fd00:98::3]' '[fd00:98::4]'; do
  for p in 143 110 587; do listening+=("$a:$p"); done
  case "$protocols" in *sieve*) listening+=("$a:4190") ;; esac
done
wait_for 15 exim_listening "$ns_s" "${listening[@]}" \
  || { say "Dovecot did not listen on ${listening[*]} within 15 s"; exit 1; }
say "Dovecot instances ${instances[*]} listening"

# --- drive the clients ----------------------------------------------------------
# in the background + wait, so that a TERM/INT reaches the trap at once
drive_rc=0
ip netns exec "$ns_c" python3 "$driver" drive "$work" &
wait $! || drive_rc=$?

# --- stop the instances: the master ends its children, which write their last lines
for inst in "${instances[@]}"; do
  kill -TERM "$(cat "$work/$inst/run/master.pid")"
done
wait_for 15 ns_empty "$ns_s" || { say "Dovecot did not stop within 15 s"; exit 1; }
# every line the syslog instance sent is in the file once this marker is
end_mark="dovecot-corpus-end-$$"
logger -u "$sock" -t "$end_mark" "end of the corpus"
wait_for 10 grep -q "$end_mark" "$work/syslog/dovecot.log" \
  || fail "rsyslogd did not write the last line within 10 s"
kill -TERM "$rsyslogd_pid"
wait "$rsyslogd_pid" || true

for inst in quiet verbose anychars; do
  install -m 644 "$work/$inst/dovecot.log" "$out/$inst.log"
done
grep -v "$end_mark" "$work/syslog/dovecot.log" >"$out/syslog.log"
chmod 644 "$out/syslog.log"
[ "$drive_rc" -eq 0 ] || { say "client errors (see above); logs are in $out"; exit 1; }

# --- truth.json and expect.json, checked against the real logs -----------------------
python3 "$driver" expect "$work" "$out"
say "Dovecot $version done in $(( $(date +%s) - started )) s: $out/{quiet,verbose,anychars,syslog}.log $out/truth.json $out/expect.json"
