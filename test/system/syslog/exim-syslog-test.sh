#!/usr/bin/env bash
# exim-syslog-test BAND BANCTL -- a real Exim 4.96 logging to its mainlogs
# and through syslog at once; the syslog files read as the mainlogs are.
#
# rsyslogd (Debian's, our own config, in a network namespace of its own)
# listens on a socket in the work directory and writes every line twice:
# rsyslog's traditional format (a date without a year) and RSYSLOG_FileFormat
# (RFC 3339, microseconds). exim-corpus/run-corpus.sh then runs its two
# Exims and all its clients, with three hooks: each config logs to
# `INST/log/%slog : syslog` (A with syslog_timestamp = true and no +pid, B
# with syslog_timestamp = false and +pid; syslog_duplication = false, see
# README.md), each Exim runs under private-dev.sh (a mount namespace whose
# /dev/log is rsyslogd's socket), and long_entries.py adds sessions whose
# entries Exim splits into "[1/2]" parts. Then:
#   1. `exim-banctl test` on the mainlogs and on each syslog file gives the
#      same hosts with the same counts, modes normal and more;
#   2. exim-band (nftables, a fresh network namespace per route) bans the
#      same keys reading the mainlogs, the traditional file, the RFC 3339 file.
# Exits 0 on pass, 77 (skip) when not root or a tool is missing, 1 on
# failure. Everything it starts or makes is removed on every exit path
# (EXIM_BAN_KEEP_WORK=1 keeps the work directory).
set -euo pipefail
say() { printf 'exim-syslog: %s\n' "$*"; }

[ $# -eq 2 ] || { echo "usage: $0 BAND BANCTL" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../support/netns-lib.sh
. "$here/../support/netns-lib.sh"
check=$here/syslog_check.py
needs_root "network namespaces, mount namespaces, nftables, Exim"
needs_tools exim swaks rsyslogd nft unshare logger
band=$(readlink -f "$1") banctl=$(readlink -f "$2")
executables "$band" "$banctl"

tag=esys$$
ns_log=${tag}l
started=$SECONDS
work_dir exim-syslog
sock=$work/syslog.sock
mkdir "$work/rsyslog"
tail_if_written "$work/rsyslogd.log" 20
cat >"$work/rsyslog.conf" <<CONF
global(workDirectory="$work/rsyslog")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$sock" RateLimit.Interval="0")
*.* action(type="omfile" file="$work/syslog-traditional" template="RSYSLOG_TraditionalFileFormat")
*.* action(type="omfile" file="$work/syslog-rfc3339" template="RSYSLOG_FileFormat")
CONF

netns_add "$ns_log"
ip netns exec "$ns_log" rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rsyslogd.pid" \
  >"$work/rsyslogd.log" 2>&1 &
rsyslogd_pid=$!
wait_for 10 test -S "$sock" || fail "rsyslogd made no socket within 10 s"
chmod 755 "$work/rsyslog"

# log_file_path gains ": syslog"; the syslog options follow it.
syslog_options() {
  printf 's|^\\(log_file_path *=.*\\)$|\\1 : syslog\\nsyslog_timestamp = %s\\nsyslog_duplication = false|' "$1"
}
# B's DATA ACL refuses long_entries.py's message (and only it): its reject
# log copy, headers and all, goes to syslog.
# shellcheck disable=SC2016  # ${if ...} is Exim's, not the shell's
refuse_marked='
s|^acl_check_data:$|acl_check_data:\n  deny condition = ${if def:h_X-Syslog-Test:}\n       message = refused for the syslog test|'
ran_corpus=0
CORPUS_CONF_SED_A=$(syslog_options true) CORPUS_CONF_SED_B="$(syslog_options false)$refuse_marked" \
  CORPUS_EXIM_WRAP="$here/private-dev.sh $sock" CORPUS_EXTRA_DRIVE="$here/long_entries.py" \
  "$here/../exim-corpus/run-corpus.sh" "$work/corpus" &
wait $! || ran_corpus=$?
[ "$ran_corpus" -eq 0 ] || fail "run-corpus.sh failed ($ran_corpus)"

# Every Exim has ended; a last line through the same socket is written after
# all of theirs: once both files have it, they are complete.
logger -u "$sock" -t syslog-test-end "end of the corpus"
have_end() { grep -q syslog-test-end "$work/syslog-traditional" && grep -q syslog-test-end "$work/syslog-rfc3339"; }
wait_for 10 have_end || fail "rsyslogd did not write the last line within 10 s"
kill -TERM "$rsyslogd_pid"
wait "$rsyslogd_pid" || true
for file in syslog-traditional syslog-rfc3339; do
  tail_on_failure "$work/$file" 20
done

python3 "$check" scan "$banctl" "$work" &
wait $! || fail "exim-banctl test: the syslog files and the mainlogs differ"

routes=(mainlog traditional rfc3339)
for route in "${routes[@]}"; do
  netns_add "$tag$route"
  ip netns exec "$tag$route" python3 "$check" bans "$band" "$banctl" "$work" "$route" &
  wait $! || fail "exim-band on the $route route"
done
python3 "$check" same-bans "$work" "${routes[@]}" &
wait $! || fail "exim-band bans differ between the routes"
say "PASS in $((SECONDS - started)) s"
