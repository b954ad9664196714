# shellcheck shell=bash
# netns-lib.sh -- what every shell driver of the system tests does the same
# way (sourced, not run): network namespaces of its own, a work directory,
# and a clean-up trap that removes all of it on every exit path (also on
# TERM/INT) after printing the tails of the logs on failure.
#
# Environment:
#   EXIM_BAN_KEEP_WORK=1   keep the work directory (its path is printed)
#                          instead of removing it: the logs, configs and
#                          files of a run, to read after it.
#
# Sourcing it installs the EXIT/INT/TERM traps; until the driver registers
# something they only normalise the exit status: 0 (pass), 77 (skip) or 1.
#   work_dir PREFIX              $work := a new /tmp/PREFIX.XXXXXX, mode 755,
#                                removed on exit (unless EXIM_BAN_KEEP_WORK)
#   netns_add NS...              new namespaces, loopback up, no duplicate
#                                address detection; on exit every process in
#                                them is stopped, then they are deleted (with
#                                their /etc/netns files, see netns_etc)
#   tail_on_failure FILE [N]     on a failing exit, the last N (40) lines of
#                                FILE ("(none)" when it does not exist)
#   tail_if_written FILE [N]     the same, only when FILE is not empty
#   fail MESSAGE...              say FAIL: MESSAGE, exit 1
#   needs_root WHAT              SKIP (77) unless root, "needs root (WHAT)"
#   needs_tools TOOL...          SKIP (77) unless each is installed
#   have_tools TOOL...           FAIL unless each is installed
#   executables PATH...          FAIL unless each is an executable file
#   veth NS_A DEV_A NS_B DEV_B   a veth pair: DEV_A in NS_A, DEV_B in NS_B
#   link_up NS DEV ADDR/LEN...   DEV in NS up with those addresses (IPv6
#                                without duplicate address detection); "-"
#                                stands for the ADDR/LEN lines read from stdin
#   with_prefix V4LEN V6LEN      each address read from stdin as ADDR/LEN
# and the helpers:
#   wait_for LIMIT CMD...        poll CMD until it succeeds, at most LIMIT s
#   stop_ns_procs NS             TERM every process in NS, then KILL after 5 s
#   trusted_edit add|remove P... /etc/exim4/trusted_configs entries (the
#                                added ones are removed again on exit)
#   exim_trusted CONF...         each CONF a trusted config (trusted_edit),
#                                then checked with exim -bV (FAIL if refused)
#   exim_debian_dirs DIR CONF    DIR/spool, DIR/log and DIR/exim.conf (CONF
#                                with @WORK@ replaced by $work), the log as
#                                Debian has it: Debian-exim:adm 2750, mainlog
#                                0640, which exim-band reads through group adm
#   netns_etc NS FILE            print the path of /etc/netns/NS/FILE, which
#                                `ip netns exec NS` bind-mounts over /etc/FILE
#                                (resolv.conf, passwd, group)
#   exim_listening NS ADDR:PORT... every ADDR:PORT is a listening TCP socket
#   netns_package_users NS       exim-ban and Debian-exim in NS as the package
#                                and the docs set them up
#
# The caller sets `say` (its message function) before sourcing, or gets a
# plain one.

declare -F say >/dev/null || say() { printf '%s\n' "$*"; }

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

# End every process in namespace $1 (all of them were started by the calling
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

# /etc/exim4/trusted_configs: Exim compares each line with the config
# path, so the marker comment is inert; a file one of these scripts created
# is deleted once no other entry is left. (The marker names run-corpus, as
# it always has: a file an older run left behind is still recognised.)
trusted=/etc/exim4/trusted_configs
trusted_mark="# created by exim-ban's test/system/exim-corpus/run-corpus; deleted when no other entry is left"
trusted_added=()
trusted_edit() {  # trusted_edit add|remove PATH...
  local op=$1; shift
  # registered before the edit, so that a half-done add is undone too
  [ "$op" = add ] && trusted_added+=("$@")
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

exim_trusted() {
  local conf
  trusted_edit add "$@"
  for conf in "$@"; do
    exim -C "$conf" -bV >"$conf.bV" 2>&1 || { cat "$conf.bV"; fail "exim rejects $conf"; }
  done
}

exim_debian_dirs() {
  local dir=$1 conf=$2
  mkdir -p "$dir/spool" "$dir/log"
  sed "s|@WORK@|$work|" "$conf" >"$dir/exim.conf"
  chmod 644 "$dir/exim.conf"
  install -o Debian-exim -g adm -m 640 /dev/null "$dir/log/mainlog"
  chown Debian-exim:Debian-exim "$dir/spool"
  chown Debian-exim:adm "$dir/log"; chmod 2750 "$dir/log"
}

# `ip netns exec NS` bind-mounts each file of /etc/netns/NS over the file of
# the same name in /etc, for that command only: a resolver, users or groups
# of the namespace's own, the host's files untouched.
netns_etc() {
  mkdir -p "/etc/netns/$1"
  printf '%s\n' "/etc/netns/$1/$2"
}
netns_etc_clean() {
  [ -n "$1" ] && [ -d "/etc/netns/$1" ] || return 0
  rm -rf -- "/etc/netns/$1"
  rmdir /etc/netns 2>/dev/null || true    # only when no other namespace uses it
}

# exim_listening NS ADDR:PORT...: each is a listening TCP socket in NS
# (as ss prints them: 0.0.0.0:25, [::]:25, 10.0.0.1:25)
exim_listening() {
  local ns=$1 have want; shift
  have=$(ip netns exec "$ns" ss -ltnH 2>/dev/null | awk '{print $4}')
  for want in "$@"; do
    grep -qxF -- "$want" <<<"$have" || return 1
  done
}

# netns_package_users NS: /etc/passwd and /etc/group as `ip netns exec NS`
# sees them, set up the way the package and docs/exim-integration.md set up
# a host: the system user exim-ban with a group of its own (as
# debian/exim-ban.postinst's adduser makes them; exim-ban.service runs it
# with Group=adm), unless the host has it already, and Debian-exim a member
# of adm (the docs' "adduser Debian-exim adm"). The host's own files are
# not changed. netns_etc_clean NS removes them.
netns_package_users() {
  local ns=$1 passwd group id
  passwd=$(netns_etc "$ns" passwd)
  group=$(netns_etc "$ns" group)
  cp /etc/passwd "$passwd"
  # adm:x:4:a,b -> adm:x:4:a,b,Debian-exim (unless it is there already)
  awk -F: -v OFS=: '$1 == "adm" && ("," $4 ",") !~ /,Debian-exim,/ {
      $4 = ($4 == "" ? "Debian-exim" : $4 ",Debian-exim") } { print }' /etc/group >"$group"
  if ! getent passwd exim-ban >/dev/null; then
    for id in $(seq 999 -1 100); do
      getent passwd "$id" >/dev/null || getent group "$id" >/dev/null || break
    done
    printf 'exim-ban:x:%d:%d:exim-ban daemon:/var/lib/exim-ban:/usr/sbin/nologin\n' "$id" "$id" >>"$passwd"
    getent group exim-ban >/dev/null || printf 'exim-ban:x:%d:\n' "$id" >>"$group"
  fi
  chmod 644 "$passwd" "$group"
}

# --- the work directory, the namespaces and the clean-up trap ----------------

work=""
netns_made=()
failure_tails=()    # "LINES:IF_WRITTEN:FILE"

work_dir() {
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 755 "$work"    # Exim's user, exim-band's and rbldnsd's reach their files
}

netns_add() {
  local ns
  for ns in "$@"; do
    netns_made+=("$ns")
    ip netns add "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    ip -n "$ns" link set lo up
  done
}

tail_on_failure() { failure_tails+=("${2:-40}:0:$1"); }
tail_if_written() { failure_tails+=("${2:-40}:1:$1"); }

fail() { say "FAIL: $*"; exit 1; }

needs_root() {
  [ "$(id -u)" -eq 0 ] || { say "SKIP: needs root ($1)"; exit 77; }
}
needs_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || { say "SKIP: $tool is not installed (packaging/install-deps installs it)"; exit 77; }
  done
}
have_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || fail "$tool not found"
  done
}
executables() {
  local f
  for f in "$@"; do
    [ -x "$f" ] || fail "$f is not an executable"
  done
}

veth() { ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"; }

link_up() {
  local ns=$1 dev=$2 a; shift 2
  {
    for a in "$@"; do
      if [ "$a" = - ]; then cat; else printf '%s\n' "$a"; fi
    done | while read -r a; do
      case $a in
        *:*) echo "addr add $a dev $dev nodad" ;;
        *) echo "addr add $a dev $dev" ;;
      esac
    done
    echo "link set $dev up"
  } | ip -n "$ns" -batch -
}

with_prefix() {
  local a
  while read -r a; do
    case $a in
      *:*) echo "$a/$2" ;;
      *) echo "$a/$1" ;;
    esac
  done
}

show_failure_tails() {
  local entry lines written file
  [ ${#failure_tails[@]} -gt 0 ] || return 0
  for entry in "${failure_tails[@]}"; do
    IFS=: read -r lines written file <<<"$entry"
    if [ "$written" -eq 1 ]; then
      [ -s "$file" ] || continue
    fi
    echo "----- tail of $file -----"
    tail -n "$lines" "$file" 2>/dev/null || echo "(none)"
  done
  echo "-----"
}

netns_cleanup() {
  local rc=$? ns
  set +e
  trap - EXIT INT TERM
  [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && show_failure_tails
  for ns in "${netns_made[@]}"; do stop_ns_procs "$ns"; done
  # the namespaces go, and with them any table inet exim_ban in them
  for ns in "${netns_made[@]}"; do
    ip netns del "$ns" 2>/dev/null
    netns_etc_clean "$ns"
  done
  [ ${#trusted_added[@]} -gt 0 ] && trusted_edit remove "${trusted_added[@]}"
  if [ -n "$work" ]; then
    if [ -n "${EXIM_BAN_KEEP_WORK:-}" ]; then say "kept $work"; else rm -rf "$work"; fi
  fi
  [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && rc=1
  exit "$rc"
}
trap netns_cleanup EXIT
trap 'say "FAIL: interrupted"; exit 130' INT
trap 'say "FAIL: terminated"; exit 143' TERM
