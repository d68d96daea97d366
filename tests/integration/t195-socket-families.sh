#!/bin/bash
# Sockets of other families than unix, TCP and UDP across a dump and a
# restore (skfamtarget): netlink sockets (NETLINK_ROUTE bound to a port id
# of its own with every flag on and groups joined by bind() and by
# NETLINK_ADD_MEMBERSHIP past the first 32, one the kernel autobound, an
# unbound NETLINK_KOBJECT_UEVENT one, NETLINK_USERSOCK sockets bound and
# connected) read back as they were; after the restore the kernel answers
# the autobound one at its port id and the connected one reaches its
# peer from its own; ICMP "ping" sockets, IPv4 autobound and IPv6 bound
# to an ident and connected, answered at their idents after the restore;
# UDP-Lite sockets, IPv4 and IPv6, with their checksum coverages and the
# datagrams queued both ways, read in order. Then a real program: `ip
# monitor`, dumped and restored, sees a link made afterwards (ping(8):
# t197). All in a network namespace of the test's own.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
# in a network namespace of its own, sdump run inside it: ICMP sockets for
# every group there (net.ipv4.ping_group_range is the namespace's), and no
# other program's traffic reaches them
test_netns
inN sysctl -q -w net.ipv4.ping_group_range="0 2147483647" || skip "no ping_group_range"

start_target_quiet skfamtarget
pid=$TPID
inN "$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
inN "$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
[ -s "$WORK/err" ] && fail "restore said: $(cat "$WORK/err")"
assert_threads_running "$pid"
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
echo "restored: netlink sockets bound, autobound, in their groups, connected, with their flags; ping and UDP-Lite sockets"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

# ip monitor, dumped and restored from inside the namespace
ip netns exec "$TEST_NS" ip monitor link >"$WORK/mon.out" 2>&1 </dev/null &
TARGET_PIDS+=($!)
mon=$!
for _ in $(seq 50); do
	ls -l "/proc/$mon/fd" 2>/dev/null | grep -q socket && break
	sleep 0.1
done
inN "$SDUMP" dump -t "$mon" -D "$WORK/d2" 2>"$WORK/err" || fail "dump of ip monitor: $(cat "$WORK/err")"
wait_gone "$mon"
wait_pid_free "$mon"
inN "$SDUMP" restore -D "$WORK/d2" -d 2>"$WORK/err" || fail "restore of ip monitor: $(cat "$WORK/err")"
inN ip link add sdt195a type veth peer name sdt195b || fail "no veth pair in its namespace"
for _ in $(seq 50); do
	grep -q sdt195a "$WORK/mon.out" && break
	sleep 0.1
done
grep -q sdt195a "$WORK/mon.out" || fail "the restored ip monitor did not see the new link: $(cat "$WORK/mon.out")"
echo "restored: ip monitor saw a link made after its restore"
kill "$mon"
wait_gone "$mon"
echo ok
