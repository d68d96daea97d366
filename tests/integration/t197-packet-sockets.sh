#!/bin/bash
# Packet sockets (AF_PACKET) across a dump and a restore, in a network
# namespace of their own (lo up, nothing else on it), sdump run inside it
# (skfamtarget --packet): SOCK_RAW bound to lo with its options, a classic
# filter, a fanout group and promiscuous mode added twice, SOCK_DGRAM of
# ETH_P_IP on every interface with a multicast membership, SOCK_PACKET
# bound to lo, an unbound one; each sees a datagram sent over lo after the
# restore, and lo stays promiscuous until the second drop. Refused at the
# dump with one line, the target running on: a ring (PACKET_RX_RING), a
# packet queued (read by the target after the refusal). A restore where
# the interface a socket is bound to has another index fails with one
# line naming it.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
command -v ip >/dev/null || skip "no ip(8)"
N=sdt197$$
ip netns add "$N" || skip "cannot make a network namespace"
trap 'ip netns del "$N" 2>/dev/null || true; cleanup' EXIT
inN() { ip netns exec "$N" "$@"; }
inN ip link set lo up

start() { # ARGS: skfamtarget in the namespace; sets TPID
	rm -f "$WORK/target.in" "$WORK/target.out"
	mkfifo "$WORK/target.in" "$WORK/target.out"
	ip netns exec "$N" "$TARGETS_DIR/skfamtarget" "$@" <"$WORK/target.in" >"$WORK/target.out" 2>"$WORK/target.err" &
	TARGET_PIDS+=($!)
	exec 7>"$WORK/target.in" 8<"$WORK/target.out"
	read -r -t 60 word TPID <&8 || fail "skfamtarget $* did not start: $(cat "$WORK/target.err")"
	[ "$word" = ready ] || fail "skfamtarget $*: '$word'"
}

start --packet
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

for what in pkring pkqueue; do
	case $what in
	pkring) pat="a packet socket with a PACKET_RX_RING ring mapped" ;;
	pkqueue) pat="a packet socket with packets queued" ;;
	esac
	start --refuse "$what"
	expect_error "cannot dump pid $TPID: fd 3 is $pat" inN "$SDUMP" dump -t "$TPID" -D "$WORK/d-$what"
	assert_running "$TPID"
	tcmd check
	[ "$REPLY" = ok ] || fail "$what: the target after the refusal: $REPLY"
	echo "refused: $(cat "$WORK/stderr")"
	echo exit >&7
	wait_gone "$TPID"
	exec 7>&- 8<&-
done

# bound to a veth end that has another index at the restore (made again after another)
# (up: on an interface down, bind() leaves an error, ENETDOWN, not read yet)
inN ip link add sdv0 type veth peer name sdv1 || skip "cannot make a veth pair"
inN ip link set sdv0 up
start --packet-on sdv0
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
