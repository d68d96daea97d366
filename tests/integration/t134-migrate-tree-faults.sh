#!/bin/bash
# The fault walk of t101 over the migration of a process tree
# (migtarget --children 2: a root and two children, each checking its own
# memory): the connection cut on either side at calls spread over the
# stream (the handover's always in), the receiver killed at moments over
# it. (The sender of a tree is killed in t194.) After each, exactly one copy of the whole
# tree runs: either every member at the source, each untraced, or every
# member at the destination and none at the source (or, cut right after
# the go, the destination's and the source's left stopped, said in one
# line); no half image at the destination.
. "$(dirname "$0")/../lib.sh"
export SDUMP_STATE_DIR="$WORK/state"
export TMPDIR=$WORK
MIB=8
KIDS=2
POINTS=5
mig_netns
PORT=$((8500 + $$ % 400))
ST=$WORK/t.st
. "$(dirname "$0")/migwalk.sh"

# the walk's length: the net calls of a whole migration
count_walk
NS=$(sed -n 's/.* net=\([0-9]*\).*/\1/p' "$WORK/send.err")
KILLED=
outcome "no fault"
[ "$RESULT" = destination ] || fail "a migration of the tree without a fault did not move"
[ -n "$NS" ] && [ "$NS" -gt 4 ] || fail "no count of the sender's net calls: $(cat "$WORK/send.err")"

spread() {
	local n=$1 i
	for ((i = 0; i < POINTS - 3; i++)); do echo $((1 + i * (n - 4) / (POINTS - 3))); done
	echo $((n - 2)) $((n - 1)) "$n"
}
for k in $(spread "$NS"); do
	KILLED=
	start_t
	start_recv
	SDUMP_FAULT=net:$k:ECONNRESET "$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" 2>"$WORK/send.err" || true
	outcome "sender's net call $k/$NS cut"
done
for k in $(spread "$NS"); do
	KILLED=
	start_t
	start_recv SDUMP_FAULT=net:$k:ECONNRESET
	"$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" 2>"$WORK/send.err" || true
	outcome "receiver's net call $k cut"
done
for ms in 200 500 800 1200; do
	for who in receiver; do
		KILLED=$who
		start_t
		start_recv
		"$SDUMP" migrate -t "$TPID" --to "$MIG_PEER:$PORT" 2>"$WORK/send.err" &
		SPID=$!
		sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
		if [ "$who" = receiver ]; then
			r=$(recv_pid) && kill -KILL "$r" 2>/dev/null || true
		else
			kill -KILL "$SPID" 2>/dev/null || true
		fi
		while kill -0 "$SPID" 2>/dev/null; do sleep 0.1; done
		outcome "$who killed at $ms ms"
	done
done
echo ok
