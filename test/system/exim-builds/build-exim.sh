#!/usr/bin/env bash
# build-exim VERSION -- build Exim VERSION from the upstream sources in
# ../shared/exim-src (beside the repository; EXIM_SRC_DIR overrides) once,
# and print the path of its binary.
#
# The build is cached outside the repository, in
#   ${EXIM_BAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/exim-ban}/exim-VERSION-KEY/
# where KEY hashes the tarball and this script (the recipe): a cached build
# costs a stat, a new tarball or recipe builds afresh. The compiler runs
# through ccache when it is installed. A lock per version (flock) makes
# parallel callers wait for one build instead of racing.
#
# The binary is Exim as Debian would build it for these tests: IPv6,
# OpenSSL (no GnuTLS), SQLite lookups, PCRE2, Berkeley DB, plaintext and
# dovecot authenticators, EXIM_USER=ref:Debian-exim (the user of Debian's exim4
# packages) and Debian's /etc/exim4/trusted_configs, so that `-C CONFIG` as
# root keeps its privilege for a config listed there, as with Debian's 4.96.
# Every path a test cares about (spool, logs, pid file) is set in the
# runtime configuration; the compiled-in ones point into the cache entry.
#
# Exits 1 with a message naming what is missing when the tarball, a tool or
# a library's headers are absent, or with the build's last lines when it
# fails.
set -euo pipefail

say() { printf 'build-exim: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

[ $# -eq 1 ] || { echo "usage: $0 VERSION (4.97.1, 4.98.2, 4.99.1)" >&2; exit 2; }
version=$1
case $version in
  *[!0-9.]* | "") die "not a version: $version" ;;
esac
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
src_dir=${EXIM_SRC_DIR:-$repo/../shared/exim-src}
tarball=$src_dir/exim-$version.tar.gz
[ -f "$tarball" ] || die "no $tarball (the Exim sources live in shared/exim-src beside the repository; EXIM_SRC_DIR names another folder)"

key=$(cat "$tarball" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)
cache=${EXIM_BAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/exim-ban}
dest=$cache/exim-$version-$key
if [ -x "$dest/bin/exim" ]; then
  echo "$dest/bin/exim"
  exit 0
fi

missing=()
for tool in gcc make perl tar sha256sum flock; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
# header -> Debian package
for pair in pcre2.h:libpcre2-dev db.h:libdb-dev openssl/ssl.h:libssl-dev sqlite3.h:libsqlite3-dev crypt.h:libcrypt-dev; do
  printf '#include <%s>\n' "${pair%%:*}" | gcc -DPCRE2_CODE_UNIT_WIDTH=8 -E -o /dev/null - 2>/dev/null \
    || missing+=("${pair#*:} (${pair%%:*})")
done
getent passwd Debian-exim >/dev/null || missing+=("the user Debian-exim (Debian's exim4-base)")
[ ${#missing[@]} -eq 0 ] || die "cannot build Exim $version, missing: ${missing[*]} (see packaging/install-deps)"

mkdir -p "$cache"
exec 9>"$cache/exim-$version.lock"
flock -w 1200 9 || die "waited 20 min for another build of Exim $version ($cache/exim-$version.lock)"
if [ -x "$dest/bin/exim" ]; then  # built by the caller we waited for
  echo "$dest/bin/exim"
  exit 0
fi

tmp=$(mktemp -d "$cache/.build-$version.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
say "building Exim $version in $tmp (cache entry $dest)"
started=$SECONDS
tar -xzf "$tarball" -C "$tmp"
tree=$tmp/exim-$version
[ -f "$tree/src/EDITME" ] || die "$tarball holds no exim-$version/src/EDITME"
mkdir -p "$tree/Local"
sed -e "s#^BIN_DIRECTORY=.*#BIN_DIRECTORY=$dest/bin#" \
    -e "s#^CONFIGURE_FILE=.*#CONFIGURE_FILE=$dest/configure#" \
    -e 's#^EXIM_USER=.*#EXIM_USER=ref:Debian-exim#' \
    -e "s#^SPOOL_DIRECTORY=.*#SPOOL_DIRECTORY=$dest/spool#" \
    -e 's/^# AUTH_PLAINTEXT=yes/AUTH_PLAINTEXT=yes/' \
    -e 's/^# AUTH_DOVECOT=yes/AUTH_DOVECOT=yes/' "$tree/src/EDITME" >"$tree/Local/Makefile"
cc=gcc
command -v ccache >/dev/null && cc="ccache gcc"
cat >>"$tree/Local/Makefile" <<EOF
CC=$cc
USE_OPENSSL=yes
TLS_LIBS=-lssl -lcrypto
LOOKUP_SQLITE=yes
LOOKUP_LIBS=-lsqlite3
EXTRALIBS_EXIM=-lcrypt
HAVE_ICONV=yes
HAVE_IPV6=yes
LOG_FILE_PATH=$dest/log/%slog
DBMLIB=-ldb
TRUSTED_CONFIG_LIST=/etc/exim4/trusted_configs
EOF
# ccache: the same objects whatever the temporary folder's name
export CCACHE_BASEDIR=$tree CCACHE_NOHASHDIR=1
if ! make -C "$tree" -j"$(nproc)" >"$tmp/make.log" 2>&1; then
  tail -n 40 "$tmp/make.log" >&2
  die "make failed for Exim $version (last lines above)"
fi
bin=$(echo "$tree"/build-Linux-*/exim)
[ -x "$bin" ] || die "make left no build-Linux-*/exim"
mkdir -p "$tmp/out/bin"
install -m 4755 -o root -g root "$bin" "$tmp/out/bin/exim" 2>/dev/null || install -m 755 "$bin" "$tmp/out/bin/exim"
"$tmp/out/bin/exim" -C /dev/null -bV 2>/dev/null | grep -q "^Exim version $version " \
  || die "the new binary does not say it is Exim $version"
mv "$tmp/out" "$dest"
say "Exim $version built in $((SECONDS - started)) s"
echo "$dest/bin/exim"
