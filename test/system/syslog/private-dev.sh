#!/usr/bin/env bash
# private-dev SOCKET CMD... -- runs CMD in a mount namespace of its own whose
# /dev is a small tmpfs: the host's null, zero, full, random, urandom and
# tty bound in, fd/stdin/stdout/stderr, a shm, and `log`, a link to SOCKET
# (a syslog daemon's socket), so that CMD's syslog() reaches that daemon
# and the host's /dev is never touched. The namespace lives as long as a
# process in it (an Exim daemon that CMD starts).
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: $0 SOCKET CMD..." >&2; exit 2; }
if [ "${PRIVATE_DEV_INSIDE:-}" != 1 ]; then
  PRIVATE_DEV_INSIDE=1 exec unshare --mount --propagation private -- "$0" "$@"
fi
unset PRIVATE_DEV_INSIDE
sock=$1; shift
# Built on a mount point of its own, then moved over /dev; the empty
# directory left behind is removed.
staging=$(mktemp -d /tmp/private-dev.XXXXXX)
mount -t tmpfs -o mode=755,size=1m private-dev "$staging"
for node in null zero full random urandom tty; do
  touch "$staging/$node"
  mount --bind "/dev/$node" "$staging/$node"
done
ln -s /proc/self/fd "$staging/fd"
ln -s fd/0 "$staging/stdin"; ln -s fd/1 "$staging/stdout"; ln -s fd/2 "$staging/stderr"
mkdir "$staging/shm"
mount -t tmpfs -o mode=1777,size=1m private-shm "$staging/shm"
ln -s "$sock" "$staging/log"
mount --move "$staging" /dev
rmdir "$staging"
exec "$@"
