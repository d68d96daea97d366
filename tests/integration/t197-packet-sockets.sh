#!/bin/bash
# Packet sockets (AF_PACKET) and raw ones (SOCK_RAW) across a dump and a
# restore, in a network namespace of their own (lo up, nothing else on
# it), sdump run inside it (skfamtarget --packet): SOCK_RAW bound to lo
# with its options, a classic filter, a fanout group and promiscuous mode
# added twice, SOCK_DGRAM of ETH_P_IP on every interface with a multicast
# membership, SOCK_PACKET bound to lo, an unbound one; raw IPv4 ICMP and
# UDP, raw IPv6 ICMPv6 (with ICMP6_FILTER, connected) and IPPROTO_RAW
# sockets. Each sees a datagram sent over lo after the restore, the
# connected one an echo reply, and lo stays promiscuous until the second
# drop. ping(8), on ICMP datagram sockets and, as root where
# ping_group_range lets no group have them, on raw ones, goes on counting
# replies after its restore. Refused at the
# dump with one line, the target running on: a ring (PACKET_RX_RING; and
# tcpdump's, which goes on capturing), a packet queued (read by the
# target after the refusal). A restore where
# the interface a socket is bound to has another index fails with one
# line naming it.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
test_netns

start_target_quiet skfamtarget --packet
pid=$TPID
inN "$SDUMP" dump -t "$pid" -D "$WORK/d1" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
inN "$SDUMP" restore -D "$WORK/d1" -d 2>"$WORK/err" || fail "restore: $(cat "$WORK/err")"
[ -s "$WORK/err" ] && fail "restore said: $(cat "$WORK/err")"
tcmd check
[ "$REPLY" = ok ] || fail "inside the restored target: $REPLY"
echo "restored: packet sockets bound, with their options, filter, fanout and memberships"
echo exit >&7
wait_gone "$pid"
exec 7>&- 8<&-

# ping(8): a reply may be queued at the dump (refused then, it runs on): tried again
ping_goes_on() { # RANGE: net.ipv4.ping_group_range for it
	inN sysctl -q -w net.ipv4.ping_group_range="$1" || skip "no ping_group_range"
	ip netns exec "$TEST_NS" ping -i 0.2 127.0.0.1 >"$WORK/ping.out" 2>&1 </dev/null &
	TARGET_PIDS+=($!)
	pp=$!
	for _ in $(seq 50); do
		grep -q "icmp_seq=2" "$WORK/ping.out" && break
		sleep 0.1
	done
	rm -rf "$WORK/dp"
	for _ in 1 2 3 4 5; do
		st=0
		inN "$SDUMP" dump -t "$pp" -D "$WORK/dp" 2>"$WORK/err" || st=$?
		[ "$st" = 0 ] && break
		grep -q "with \(echo replies\|packets\) queued" "$WORK/err" || fail "dump of ping: $(cat "$WORK/err")"
		rm -rf "$WORK/dp"
		sleep 0.1
	done
	[ "$st" = 0 ] || fail "dump of ping: $(cat "$WORK/err")"
	wait_gone "$pp"
	wait_pid_free "$pp"
	before=$(grep -c "bytes from" "$WORK/ping.out")
	inN "$SDUMP" restore -D "$WORK/dp" -d 2>"$WORK/err" || fail "restore of ping: $(cat "$WORK/err")"
	for _ in $(seq 50); do
		[ "$(grep -c "bytes from" "$WORK/ping.out")" -ge $((before + 3)) ] && break
		sleep 0.1
	done
	[ "$(grep -c "bytes from" "$WORK/ping.out")" -ge $((before + 3)) ] ||
		fail "the restored ping got no more replies: $(tail -3 "$WORK/ping.out")"
	kill -INT "$pp"
	wait_gone "$pp"
	grep -q " 0% packet loss" "$WORK/ping.out" || fail "ping lost packets: $(tail -3 "$WORK/ping.out")"
	echo "restored: ping ($2) went on, $(grep "packet loss" "$WORK/ping.out")"
}
if command -v ping >/dev/null; then
	ping_goes_on "0 2147483647" "ICMP datagram sockets"
	ping_goes_on "1 0" "raw sockets"
fi

refused_by skfamtarget pkring "a packet socket with a PACKET_RX_RING ring mapped"
refused_by skfamtarget pkqueue "a packet socket with packets queued"

# tcpdump: libpcap's ring refused, tcpdump capturing on
if command -v tcpdump >/dev/null; then
	ip netns exec "$TEST_NS" tcpdump -i lo -n -l >"$WORK/td.out" 2>&1 </dev/null &
	TARGET_PIDS+=($!)
	td=$!
	for _ in $(seq 100); do
		grep -q "listening on" "$WORK/td.out" && break
		sleep 0.1
	done
	grep -q "listening on" "$WORK/td.out" || fail "tcpdump did not start: $(cat "$WORK/td.out")"
	expect_error "cannot dump pid $td: fd [0-9]+ is a packet socket with a PACKET_RX_RING ring mapped" inN "$SDUMP" dump -t "$td" -D "$WORK/dtd"
	assert_running "$td"
	inN ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1 || true
	for _ in $(seq 50); do
		grep -q "ICMP echo request" "$WORK/td.out" && break
		sleep 0.1
	done
	grep -q "ICMP echo request" "$WORK/td.out" || fail "tcpdump captured nothing after the refusal: $(cat "$WORK/td.out")"
	echo "refused: $(cat "$WORK/stderr"); tcpdump went on capturing"
	kill "$td"
	wait_gone "$td"
fi

# bound to a veth end that has another index at the restore (made again after another)
# (up: on an interface down, bind() leaves an error, ENETDOWN, not read yet)
inN ip link add sdv0 type veth peer name sdv1 || skip "cannot make a veth pair"
inN ip link set sdv0 up
start_target_quiet skfamtarget --packet-on sdv0
pid=$TPID
inN "$SDUMP" dump -t "$pid" -D "$WORK/d2" 2>"$WORK/err" || fail "dump: $(cat "$WORK/err")"
wait_gone "$pid"
wait_pid_free "$pid"
inN ip link del sdv0
inN ip link add sdv2 type veth peer name sdv3
inN ip link add sdv0 type veth peer name sdv1
inN ip link set sdv0 up
expect_error "cannot restore pid $pid: the packet socket of fd 3 was on interface sdv0, index [0-9]+, which has index [0-9]+ here" \
	inN "$SDUMP" restore -D "$WORK/d2" -d
echo "refused: $(cat "$WORK/stderr")"
echo ok
