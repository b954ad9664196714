#!/usr/bin/env bash
# mail-stack-test BAND BANCTL -- exim-band (nftables) beside Debian's Exim
# 4.96 and Dovecot 2.3.19, one [mail] jail reading both logs, end to end
# (see README.md beside this file).
#
# Builds two network namespaces: the server (Dovecot: imap, pop3,
# managesieve; Exim: 25 and 587 with the seed's ACLs reading exim-band's
# trust_file; exim-band with the real nftables backend) and the client (one
# veth, many addresses). mail_stack.py (run inside the client namespace)
# starts exim-band in the server namespace, drives the clients and asserts.
#
# Exits 0 on pass, 77 (skip) when not root or when exim, swaks, nft or
# dovecot is missing, 1 on failure (the reason, then the logs' tails).
# Everything it makes is removed on every exit path, also on TERM/INT.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 BAND BANCTL" >&2; exit 2; }
band=$1 banctl=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
driver=$here/mail_stack.py

say() { printf 'mail-stack: %s\n' "$*"; }
# shellcheck source-path=SCRIPTDIR source=../support/netns-lib.sh
. "$here/../support/netns-lib.sh"

needs_root "network namespaces, nftables, Exim and Dovecot daemons"
needs_tools exim swaks nft dovecot
have_tools ip openssl python3 flock ss
[ -x /usr/lib/dovecot/managesieve-login ] || { say "SKIP: dovecot-managesieved is not installed"; exit 77; }
for u in dovecot dovenull; do
  getent passwd "$u" >/dev/null || fail "Dovecot's user $u is missing (install dovecot-core)"
done
executables "$band" "$banctl"
band=$(readlink -f "$band") banctl=$(readlink -f "$banctl")

tag=ms$$
ns_s=${tag}s ns_c=${tag}c

work_dir mail-stack
tail_on_failure "$work/band/exim-band.log"
tail_on_failure "$work/log/mainlog"
tail_on_failure "$work/dovecot/dovecot.log"
tail_if_written "$work/log/paniclog" 20

# --- Exim's and Dovecot's files ------------------------------------------------
mkdir -p "$work/mail" "$work/tls" "$work/band"
exim_debian_dirs "$work" "$here/mail-stack-exim.conf"
chown Debian-exim:Debian-exim "$work/mail"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$work/tls/key.pem" -out "$work/tls/cert.pem" -days 2 \
  -subj "/CN=mx.mail-stack.example" 2>/dev/null
chmod 644 "$work/tls/key.pem" "$work/tls/cert.pem"
python3 "$driver" setup "$work" >"$work/client-addresses"
dovecot -c "$work/dovecot/dovecot.conf" -n >"$work/dovecot/doveconf-n" 2>&1 \
  || { cat "$work/dovecot/doveconf-n" >&2; fail "Dovecot rejects its configuration"; }
exim_trusted "$work/exim.conf"

# --- network: client <-veth-> server ---------------------------------------------
netns_add "$ns_s" "$ns_c"
veth "$ns_s" "${tag}sc" "$ns_c" "${tag}cs"
link_up "$ns_s" "${tag}sc" 10.97.0.1/24 fd00:97::1/64
link_up "$ns_c" "${tag}cs" - <"$work/client-addresses"

# --- Dovecot and Exim --------------------------------------------------------------
ip netns exec "$ns_s" dovecot -c "$work/dovecot/dovecot.conf"
wait_for 10 exim_listening "$ns_s" 10.97.0.1:110 10.97.0.1:143 10.97.0.1:4190 "[fd00:97::1]:143" \
  || fail "Dovecot did not listen on 110, 143 and 4190 within 10 s"
wait_for 10 test -S "$work/dovecot/run/auth-exim" || fail "Dovecot made no auth socket for Exim within 10 s"
say "Dovecot $(dovecot --version) listening on 110, 143, 4190 in namespace $ns_s"
ip netns exec "$ns_s" exim -C "$work/exim.conf" -bd -q30m
wait_for 10 exim_listening "$ns_s" 0.0.0.0:25 0.0.0.0:587 || fail "Exim did not listen on 25 and 587 within 10 s"
wait_for 10 test -s "$work/exim.pid" || fail "Exim wrote no pid file within 10 s"
say "Exim $(exim -bV 2>/dev/null | sed -n '1s/^Exim version \([^ ]*\).*/\1/p') listening on 25, 587 in namespace $ns_s"

# --- the test ------------------------------------------------------------------------
rc=0
ip netns exec "$ns_c" python3 "$driver" run "$work" "$band" "$banctl" "$ns_s" &
wait $! || rc=$?
[ "$rc" -eq 0 ] || exit 1
