#!/bin/bash
# Makes fail2ban.sqlite3 here with a real fail2ban 1.0.2 (Debian's package,
# downloaded and unpacked, never installed): fail2ban-server runs in the
# foreground on its own socket, pidfile and database in a temporary
# directory, with the [exim] jail of jail.local here (banaction dummy: no
# firewall is touched), on a mainlog that this script writes with Exim's 535
# lines. See README.md for what happens to which address.
#
# usage: make-db [OUTDIR]    (default: this script's directory)
# needs: apt-get (download only), dpkg-deb, python3, sqlite3 module; no root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
work=$(mktemp -d /tmp/fail2ban-db.XXXXXX)
server_pid=
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

say() { printf 'make-db: %s\n' "$*"; }

cd "$work"
apt-get download fail2ban >/dev/null 2>&1 || { say "apt-get download fail2ban failed"; exit 1; }
deb=$(ls fail2ban_*.deb)
version=$(dpkg-deb -f "$deb" Version)
case "$version" in
1.0.2*) ;;
*) say "Debian offers fail2ban $version, not 1.0.2: the fixture is meant to come from 1.0.2"; exit 1 ;;
esac
dpkg-deb -x "$deb" root
say "fail2ban $version unpacked in $work/root"

# The configuration: Debian's, without jail.d (defaults-debian.conf would
# start sshd on the journal), with the files that keep fail2ban inside
# $work. jail.local is the one committed here.
conf=$work/etc
cp -r root/etc/fail2ban "$conf"
rm -f "$conf"/jail.d/*
cp "$here/jail.local" "$conf/jail.local"
cat > "$conf/fail2ban.local" <<CONF
[Definition]
loglevel = INFO
logtarget = $work/fail2ban.log
socket = $work/fail2ban.sock
pidfile = $work/fail2ban.pid
dbfile = $work/fail2ban.sqlite3
CONF
cat > "$conf/paths-overrides.local" <<CONF
[DEFAULT]
exim_main_log = $work/mainlog
CONF
cat > "$conf/action.d/dummy.local" <<CONF
[Init]
target = $work/dummy-actions
CONF
: > "$work/mainlog"

export PYTHONPATH=$work/root/usr/lib/python3/dist-packages
f2b() { python3 "$work/root/usr/bin/fail2ban-client" -c "$conf" -s "$work/fail2ban.sock" "$@"; }

python3 "$work/root/usr/bin/fail2ban-server" -f -x -c "$conf" -s "$work/fail2ban.sock" \
    -p "$work/fail2ban.pid" >"$work/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    f2b ping >/dev/null 2>&1 && break
    sleep 0.2
done
f2b status exim >/dev/null || { cat "$work/server.out" "$work/fail2ban.log"; exit 1; }
say "fail2ban-server $server_pid runs the [exim] jail on $work/mainlog"

# Three 535 failures of ADDRESS, stamped now, as Exim's mainlog has them.
fail() {
    local address=$1 i
    for i in 1 2 3; do
        printf '%s dovecot_login authenticator failed for (ylmf-pc) [%s]:5%d322: 535 Incorrect authentication data (set_id=admin%d)\n' \
            "$(date '+%Y-%m-%d %H:%M:%S')" "$address" "$i" "$i" >>"$work/mainlog"
    done
}
banned() { f2b get exim banip | tr ' ' '\n' | grep -qxF "$1"; }
wait_for() { # wait_for banned|unbanned ADDRESS...
    local want=$1 address tries
    shift
    for address in "$@"; do
        for tries in $(seq 150); do
            if banned "$address"; then [ "$want" = banned ] && break; else [ "$want" = unbanned ] && break; fi
            [ "$tries" = 150 ] && { say "$address never got $want"; tail -20 "$work/fail2ban.log"; exit 1; }
            sleep 0.2
        done
        say "$address $want"
    done
}

# 203.0.113.20 and 203.0.113.30: banned for 4 s, so that they expire.
f2b set exim bantime 4 >/dev/null
fail 203.0.113.20
fail 203.0.113.30
wait_for banned 203.0.113.20 203.0.113.30
wait_for unbanned 203.0.113.20 203.0.113.30

# 203.0.113.40: a permanent ban.
f2b set exim bantime -1 >/dev/null
fail 203.0.113.40
wait_for banned 203.0.113.40

# The jail's own bantime (1h) again: 203.0.113.20 is banned a second time
# (bantime.increment: 2h, bancount 2), the others for the first time; two
# addresses of one IPv6 /64; 198.51.100.250 is on fail2ban's ignoreip.
f2b set exim bantime 3600 >/dev/null
for address in 203.0.113.10 203.0.113.20 2001:db8:1:2::10 2001:db8:1:2::20 2001:db8:9::5 \
    198.51.100.7 198.51.100.250; do
    fail "$address"
done
wait_for banned 203.0.113.10 203.0.113.20 2001:db8:1:2::10 2001:db8:1:2::20 2001:db8:9::5 \
    198.51.100.7
# A manual ban of a loopback address: fail2ban lets root do it.
f2b set exim banip 127.0.0.2 >/dev/null
wait_for banned 127.0.0.2
sleep 2
if banned 198.51.100.250; then say "198.51.100.250 is on ignoreip but was banned"; exit 1; fi
say "198.51.100.250 not banned (fail2ban's ignoreip)"

f2b stop >/dev/null
wait "$server_pid" || true
server_pid=

python3 - "$work/fail2ban.sqlite3" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
print("make-db: fail2banDb version", db.execute("select version from fail2banDb").fetchone()[0])
for table in ("bips", "bans"):
    print("make-db: %s (ip, timeofban, bantime, bancount):" % table)
    for row in db.execute("select ip, timeofban, bantime, bancount from %s where jail = 'exim' "
                          "order by timeofban, ip" % table):
        print("  ", *row)
db.close()
PY
mkdir -p "$out"
install -m 644 "$work/fail2ban.sqlite3" "$out/fail2ban.sqlite3"
# Debian's stock files beside jail.local, so that the directory is the
# configuration fail2ban read (without the overrides that kept it in $work).
for file in jail.conf paths-common.conf paths-debian.conf; do
    cp "$work/root/etc/fail2ban/$file" "$out/$file"
done
if [ "$out" != "$here" ]; then cp "$here/jail.local" "$out/jail.local"; fi
say "wrote $out/fail2ban.sqlite3 ($(stat -c %s "$out/fail2ban.sqlite3") bytes)"
