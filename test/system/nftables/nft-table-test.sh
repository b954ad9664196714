#!/usr/bin/env bash
# nft-table-test DRIVER -- the nftables backend against a real kernel.
#
# Runs itself again inside `unshare --net`: a network namespace of its own,
# with its own empty ruleset, that the kernel deletes when the test ends.
# The host's ruleset is never read or written. The nft CLI is used only to
# check and to change the table "by hand"; the backend never runs it.
# Exits 77 (skipped) when not root or when nft/python3/setpriv are missing.
set -uo pipefail

[ $# -ge 1 ] || { echo "usage: $0 DRIVER" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
say() { printf 'nft-table-test: %s\n' "$*"; }
# shellcheck source-path=SCRIPTDIR source=../support/netns-lib.sh
. "$here/../support/netns-lib.sh"

if [ "${1}" != "--inside" ]; then
  needs_root "network namespaces, nf_tables"
  needs_tools nft unshare python3 setpriv
  exec unshare --net -- "$0" --inside "$(readlink /proc/self/ns/net)" "$@"
fi
outer=$2
driver=$3
executables "$driver"
inner=$(readlink /proc/self/ns/net)
if [ -z "$outer" ] || [ -z "$inner" ] || [ "$inner" = "$outer" ]; then
  fail "not in a network namespace of its own; refusing to touch the host"
fi

work_dir nft-table-test
tmp=$work
state() { "$here/nft-state.py" "$@"; }
jails=(--jail exim:25,465,587:drop:64 --jail spam:all:reject:48)
drv() { "$driver" "${jails[@]}" "$@"; }

passed=0
failed=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail_check() { echo "FAIL: $1"; failed=$((failed + 1)); }
# expect NAME EXPECTED ACTUAL: equal texts, or a diff.
expect() {
  if [ "$2" = "$3" ]; then
    pass "$1"
  else
    fail_check "$1"
    diff <(echo "$2") <(echo "$3") | sed 's/^/    /'
  fi
}
# contains NAME TEXT PATTERN
contains() {
  if grep -qF -- "$3" <<<"$2"; then pass "$1"; else fail_check "$1 (no '$3' in: $2)"; fi
}

structure='chain input filter input -10 accept
rule ip saddr @spam_v4 reject
rule ip6 saddr & ffff:ffff:ffff:: == @spam_v6 reject
rule meta l4proto tcp ip saddr @spam_v4 reject with tcp reset
rule meta l4proto tcp ip6 saddr & ffff:ffff:ffff:: == @spam_v6 reject with tcp reset
rule tcp dport { 25, 465, 587 } ip saddr @exim_v4 drop
rule tcp dport { 25, 465, 587 } ip6 saddr & ffff:ffff:ffff:ffff:: == @exim_v6 drop
set exim_v4 ipv4_addr flags=timeout counter "exim-ban jail exim"
set exim_v6 ipv6_addr flags=timeout counter "exim-ban jail exim"
set spam_v4 ipv4_addr flags=timeout counter "exim-ban jail spam"
set spam_v6 ipv6_addr flags=timeout counter "exim-ban jail spam"'
with() { printf '%s\n%s\n' "$structure" "$1" | sed '/^$/d' | sort; }

# Two tables that are not exim-ban's, one of them named like ours in
# another family: no operation may change them.
nft -f - <<'NFT' || fail "cannot make the other tables"
table inet other {
  set keep { type ipv4_addr; elements = { 10.98.50.1, 10.98.50.2 }; }
  chain input { type filter hook input priority 0; policy accept; ip saddr @keep counter accept; }
}
table ip exim_ban {
  set exim_v4 { type ipv4_addr; flags timeout; elements = { 10.98.60.1 }; }
  chain input { type filter hook input priority -10; policy accept; ip saddr @exim_v4 drop; }
}
NFT
others() { nft -j list table inet other && nft -j list table ip exim_ban; }
others_before=$(others) || fail "cannot list the other tables"

# --- setup and one batch
out=$(drv setup)
expect "setup makes exactly the sets, the chain and the rules" "$(with '')" "$(state)"

out=$(drv ban exim 10.98.0.1 60000 exim 10.98.0.2 120000 exim 2001:db8:1:2::5 60000 \
              spam 10.98.0.1 300000 spam 2001:db8:1:2::5 300000 \
              exim 10.98.0.0/24 60000 exim 10.98.0.3 4611686018427387904)
rc=$?
expect "a batch with two bad bans applies the others and exits 3" "3" "$rc"
contains "the batch reports what it applied" "$out" "added 5 removed 0 failures 2"
contains "an IPv4 network is refused before the kernel" "$out" \
  "failure exim 10.98.0.0/24 Invalid argument"
contains "the kernel's refusal names the element" "$out" \
  "failure exim 10.98.0.3 Numerical result out of range: nf_tables refused to add 10.98.0.3 to exim_v4"
elements='element exim_v4 10.98.0.1 timeout=60
element exim_v4 10.98.0.2 timeout=120
element exim_v6 2001:db8:1:2:: timeout=60
element spam_v4 10.98.0.1 timeout=300
element spam_v6 2001:db8:1:: timeout=300'
expect "after the batch the table holds exactly the expected elements" \
  "$(with "$elements")" "$(state)"

# --- exim-banctl nft-list
out=$("$driver" list)
contains "nft-list prints a table" "$out" "exim  2001:db8:1:2::/64  1m       1m             0      0"
contains "nft-list counts" "$out" "5 elements in table inet exim_ban"
json=$("$driver" list --json)
expect "nft-list --json has every element with its jail, time and counters" \
  "exim 10.98.0.1 ipv4 60 0 0|exim 10.98.0.2 ipv4 120 0 0|exim 2001:db8:1:2::/64 ipv6 60 0 0|spam 10.98.0.1 ipv4 300 0 0|spam 2001:db8:1::/48 ipv6 300 0 0" \
  "$(python3 -c 'import json,sys
d = json.load(sys.stdin)
assert d["present"] and d["table"] == "table inet exim_ban"
print("|".join("{jail} {element} {family} {timeout} {packets} {bytes}".format(**e) for e in d["elements"]))' <<<"$json")"

# --- expiry by the kernel alone
drv ban exim 10.98.0.50 1500 >/dev/null
present=$(state | grep -c 'element exim_v4 10.98.0.50 ')
gone_after=""
start=$(date +%s%N)
for _ in $(seq 1 100); do # at most 10 s
  if ! grep -q 'element exim_v4 10.98.0.50 ' <<<"$(state)"; then
    gone_after=$((($(date +%s%N) - start) / 1000000))
    break
  fi
  sleep 0.1
done
if [ "$present" = 1 ] && [ -n "$gone_after" ]; then
  pass "an element with a 1.5 s timeout expires by itself (gone ${gone_after} ms after the first check)"
else
  fail_check "an element with a 1.5 s timeout expires by itself (present=$present, gone_after=${gone_after:-never})"
fi

# --- renewal, unban
drv ban exim 10.98.0.1 600000 >/dev/null
contains "a renewed ban gets its new timeout" "$(state)" "element exim_v4 10.98.0.1 timeout=600"
out=$(drv unban exim 10.98.0.2 exim 10.98.9.9)
rc=$?
expect "unbanning, also a key not banned, is no failure" "0 added 0 removed 2 failures 0" "$rc $out"
contains "the unbanned element is gone" "$(state | grep -c 10.98.0.2 || true)" "0"

# --- reconcile repairs a table changed by hand
nft add element inet exim_ban exim_v4 '{ 10.98.7.7 timeout 1h }'
nft delete element inet exim_ban exim_v4 '{ 10.98.0.1 }'
nft flush chain inet exim_ban input
nft add rule inet exim_ban input tcp dport 22 accept
nft delete set inet exim_ban spam_v6
nft delete element inet exim_ban spam_v4 '{ 10.98.0.1 }'
nft add element inet exim_ban spam_v4 '{ 10.98.0.1 timeout 5s }'
# The element left as it was is wanted with the time it has left, so that
# a slow machine cannot push it past the reconcile tolerance.
v6_left() { state --expires | sed -n 's/^element exim_v6 2001:db8:1:2:: .*expires=\([0-9]*\).*/\1000/p'; }
out=$(drv reconcile exim 10.98.0.1 60000 exim 2001:db8:1:2::77 "$(v6_left)" \
                    spam 10.98.0.1 300000 spam 2001:db8:1:2::5 300000 exim 10.98.0.99 0)
contains "reconcile adds, renews and removes" "$out" "added 3 removed 1 failures 0"
expect "reconcile repairs a table changed by hand" \
  "$(with "$(sed '/10.98.0.2 /d' <<<"$elements")")" "$(state)"
out=$(drv reconcile exim 10.98.0.1 60000 exim 2001:db8:1:2::77 "$(v6_left)" \
                    spam 10.98.0.1 300000 spam 2001:db8:1:2::5 300000)
expect "a second reconcile finds nothing to do" "added 0 removed 0 failures 0" "$out"

# --- a set deleted under a running backend is made again
mkfifo "$tmp/go"
drv --pause-before-commit ban exim 10.98.0.9 60000 <"$tmp/go" >"$tmp/out" 2>&1 &
pid=$!
exec 3>"$tmp/go"
for _ in $(seq 1 100); do grep -q paused "$tmp/out" && break; sleep 0.05; done
nft delete table inet exim_ban
echo go >&3
exec 3>&-
wait "$pid"
rc=$?
expect "a commit after the table was deleted repairs it and applies" "0" "$rc"
expect "... and the table is whole again with the new ban" \
  "$(with 'element exim_v4 10.98.0.9 timeout=60')" "$(state)"

# --- a jail no longer configured loses its sets
drv ban spam 10.98.0.1 300000 >/dev/null
"$driver" --jail exim:25,465,587:drop:64 setup >/dev/null
expect "a jail no longer configured loses its sets; the others keep their bans" \
  "chain input filter input -10 accept
element exim_v4 10.98.0.9 timeout=60
rule tcp dport { 25, 465, 587 } ip saddr @exim_v4 drop
rule tcp dport { 25, 465, 587 } ip6 saddr & ffff:ffff:ffff:ffff:: == @exim_v6 drop
set exim_v4 ipv4_addr flags=timeout counter \"exim-ban jail exim\"
set exim_v6 ipv6_addr flags=timeout counter \"exim-ban jail exim\"" "$(state)"

# --- clear errors at start-up
out=$(setpriv --bounding-set=-net_admin --inh-caps=-net_admin "$driver" "${jails[@]}" setup 2>&1)
rc=$?
expect "without CAP_NET_ADMIN setup fails" "1" "$rc"
contains "... and says what to do" "$out" "nftables needs CAP_NET_ADMIN (run as root"
out=$(setpriv --bounding-set=-net_admin --inh-caps=-net_admin "$driver" list 2>&1)
rc=$?
contains "without CAP_NET_ADMIN nft-list fails clearly" "$rc $out" "1 exim-banctl: cannot read table inet exim_ban: permission denied"

nft delete table inet exim_ban
nft -f - <<'NFT'
table inet exim_ban {
  set exim_v4 { type ipv6_addr; flags interval; }
}
NFT
before=$(nft -j list table inet exim_ban)
out=$(drv setup 2>&1)
rc=$?
expect "a foreign object in our table's way stops setup" "1" "$rc"
contains "... naming it" "$out" "set exim_v4 in table inet exim_ban has type ipv6_addr instead of ipv4_addr"
contains "... and saying what to do" "$out" "exim-banctl nft-flush"
expect "... and it is left as it was" "$before" "$(nft -j list table inet exim_ban)"

# --- exim-banctl nft-flush
out=$("$driver" flush)
contains "nft-flush removes our table" "$out" "removed table inet exim_ban"
expect "... and only ours" "inet other
ip exim_ban" "$(nft list tables | awk '{print $2, $3}' | sort)"
out=$("$driver" flush)
expect "nft-flush without a table has nothing to do" "no table inet exim_ban: nothing to remove" "$out"

expect "the other tables were untouched by every operation" "$others_before" "$(others)"

say "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
